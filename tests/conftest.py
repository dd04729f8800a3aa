import uuid

import pytest
from django.db import connection
from django.utils import timezone

from . import kit
from .factories import ContractFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    """Report PostgreSQL-only tests as skipped, with the reason, on any other database."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(
        reason="needs PostgreSQL (set DATABASE_URL=postgres://...): "
        f"row locks and triggers do not exist on {connection.vendor}"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_in_process():
    """Run tasks where they are sent; tests/test_celery.py runs a real worker on the broker."""
    from config import celery_app

    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def broker_down():
    """Send tasks for real, to a broker that cannot be reached (a closed port)."""
    with kit.broker_unreachable():
        yield


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Throttle counters live in the cache: give each test a namespace of its own in it.

    The cache is Redis, which the other test processes share, or a database table that tests
    which commit leave filled; a key prefix of the test's own keeps every test's counters apart
    without clearing what another process may be counting.
    """
    default = settings.CACHES["default"]
    settings.CACHES = {
        **settings.CACHES,
        "default": {**default, "KEY_PREFIX": f"test-{uuid.uuid4().hex}"},
    }


@pytest.fixture(autouse=True)
def _lists_read_each_time(request, settings):
    """The pages and API reads kept under a user's stamp (the contract history, See Dispute,
    the API's contract list and dispute) are read each time (``core.stamps`` keeps nothing), so
    a test sees the queries and the context of the reading; the tests of the keeping
    (``kept_lists``) and the browser tests (``e2e``) run as production does."""
    if request.node.get_closest_marker("kept_lists") or request.node.get_closest_marker("e2e"):
        return
    settings.STAMPED_CACHE_SECONDS = 0


@pytest.fixture(autouse=True)
def _fast_and_private(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture(autouse=True)
def _cases_wait_for_staff(settings):
    """Cases wait unassigned in the queues unless a test turns on automatic assignment
    (``auto_assign``): most tests follow one staff member taking a case by hand."""
    settings.AUTO_ASSIGN_CASES = False


@pytest.fixture
def auto_assign(settings):
    """Cases entering mediation or arbitration are assigned by load, as in production."""
    settings.AUTO_ASSIGN_CASES = True


@pytest.fixture
def private_storage_per_test(_fast_and_private):
    """Store files under this test's PRIVATE_MEDIA_ROOT, so "nothing stored" means something.

    ``private_storage`` is a lazy object that reads the setting once, at first use;
    ``_fast_and_private`` changes the setting per test, so reset the storage around each test.
    """
    from django.utils.functional import empty

    from contracts.models import private_storage

    private_storage._wrapped = empty
    yield
    private_storage._wrapped = empty


@pytest.fixture
def arbitration_fee_of_50(settings):
    """Each party's arbitration fee is a flat 50.00."""
    settings.ARBITRATION_FEE_FIXED = "50.00"
    settings.ARBITRATION_FEE_PERCENT = "0"


@pytest.fixture
def now():
    return timezone.now()


@pytest.fixture
def client_user(db):
    return UserFactory(username="carol-client")


@pytest.fixture
def freelancer(db):
    return UserFactory(username="frank-freelancer")


@pytest.fixture
def stranger(db):
    return UserFactory(username="sam-stranger")


@pytest.fixture
def contract(client_user, freelancer):
    return ContractFactory(client=client_user, freelancer=freelancer)


# --- Staff everyone's tests meet, under the names their assertions use ----------------------------


@pytest.fixture
def agent(db):
    return kit.agent("mia-agent")


@pytest.fixture
def arbitrator(db):
    return kit.arbitrator("art-arbitrator")


@pytest.fixture
def staff(db):
    # Roles are groups: staff read what their roles need.
    return kit.staff_in_every_role("stella-staff")


# --- API clients of each of them ------------------------------------------------------------------


@pytest.fixture
def as_client(client_user):
    return kit.api_as(client_user)


@pytest.fixture
def as_freelancer(freelancer):
    return kit.api_as(freelancer)


@pytest.fixture
def as_stranger(stranger):
    return kit.api_as(stranger)


@pytest.fixture
def as_agent(agent):
    return kit.api_as(agent)


@pytest.fixture
def as_arbitrator(arbitrator):
    return kit.api_as(arbitrator)


@pytest.fixture
def as_staff(staff):
    return kit.api_as(staff)
