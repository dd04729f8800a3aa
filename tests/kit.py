"""The test kit every test module shares: clients, error assertions, staff, stage builders, books.

Stage builders make state through the services, as people would, so a test starts from the same
rows the product makes: a refund request (``ended``), a submitted dispute (``filed``), one in
mediation (``declined``), a proposed resolution (``proposed``), an open arbitration window
(``window``) and an open case (``case``). Each takes the contract and ``now``.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import user_suspend
from contracts.models import Account, LedgerTransaction, Milestone
from tests.factories import (  # noqa: F401  (re-exported: the kit is the one place to import)
    PASSWORD,
    ContractFactory,
    UserFactory,
    declined_dispute,
    draft_dispute,
    end_contract,
    file_dispute,
    make_milestone,
    staff_member,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
# A Windows program named like a PDF, and what an upload form answers to it.
DISGUISED_EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256))
NOT_ALLOWED = "This file is not a PDF, PNG, JPEG, plain text or ZIP file."


# --- The broker ---------------------------------------------------------------------------------

CLOSED_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def queues_to_ourselves():
    """Take turns with the other tests that run workers on this broker (test processes run in
    parallel), and start from empty queues: no worker runs another test's tasks."""
    import fcntl
    import hashlib
    import tempfile
    from pathlib import Path

    from django.conf import settings

    from config import celery_app

    key = hashlib.sha256(settings.CELERY_BROKER_URL.encode()).hexdigest()[:16]
    with open(Path(tempfile.gettempdir()) / f"disputes-celery-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            celery_app.control.purge()
            yield
            celery_app.control.purge()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@contextmanager
def real_worker(queues: list[str] | None = None):
    """A Celery worker in this process on the real broker, serving ``queues`` (default: all),
    with tasks sent to it instead of run eagerly.

    The worker sets the root logger's level when it starts; it is put back after, as is the
    app's choice of queues, so that later tests log and send as before.
    """
    import logging

    from celery.contrib.testing.worker import start_worker

    from config import celery_app

    root = logging.getLogger()
    level = root.level
    chosen = celery_app.amqp.queues._consume_from
    celery_app.conf.task_always_eager = False
    try:
        with (
            queues_to_ourselves(),
            start_worker(
                celery_app,
                pool="solo",
                queues=queues,
                perform_ping_check=False,
                shutdown_timeout=10,
            ),
        ):
            yield
    finally:
        celery_app.conf.task_always_eager = True
        celery_app.amqp.queues._consume_from = chosen
        root.setLevel(level)


@contextmanager
def broker_unreachable(url: str = CLOSED_BROKER):
    """Send tasks for real (not run in the test's process) to the broker at ``url``."""
    from config import celery_app

    conf = celery_app.conf
    saved_env = os.environ.get("CELERY_BROKER_URL")
    saved = (conf.broker_url, dict(conf.broker_transport_options or {}), conf.task_always_eager)
    # Celery reads CELERY_BROKER_URL from the environment before its own setting.
    os.environ["CELERY_BROKER_URL"] = url
    _use_broker(celery_app, url, {}, eager=False)
    try:
        yield
    finally:
        if saved_env is None:
            del os.environ["CELERY_BROKER_URL"]
        else:
            os.environ["CELERY_BROKER_URL"] = saved_env
        _use_broker(celery_app, *saved)


def _use_broker(app, url: str, options: dict, eager: bool) -> None:
    app.conf.broker_url, app.conf.broker_transport_options = url, options
    app.conf.task_always_eager = eager
    # The app keeps its connection pools: forget them, so that the next task goes to ``url``.
    app._pool = None
    app.amqp._producer_pool = None


# --- Clients ------------------------------------------------------------------------------------


def api_as(user: User | None) -> APIClient:
    """An API client authenticated as ``user`` (anonymous for None)."""
    api = APIClient()
    if user is not None:
        api.force_authenticate(user)
    return api


def browser_for(user: User) -> Client:
    """A browser session logged in as ``user``."""
    browser = Client()
    browser.force_login(user)
    return browser


def shown_messages(response) -> list[str]:
    """The flash messages a rendered page shows."""
    return [str(message) for message in response.context["messages"]]


def followed_messages(browser: Client, response) -> list[str]:
    """The flash messages shown on the page a POST redirected to."""
    assert response.status_code == 302, response.content
    return shown_messages(browser.get(response["Location"]))


def url(dispute, action: str = "") -> str:
    """The API address of ``dispute``, or of one of its actions (``"award/"``)."""
    return f"/api/v1/disputes/{dispute.pk}/{action}"


def utc(moment) -> str:
    """``moment`` as the API writes it: ISO 8601 in UTC, with a ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def balances(api: APIClient) -> dict[str, str]:
    """The caller's balances as the API lists them: account name to balance."""
    return {
        row["account"]: row["balance"] for row in api.get("/api/v1/balances/").json()["results"]
    }


# --- Errors -------------------------------------------------------------------------------------


def assert_error(response, status: int, code: str, *, message: bool = True) -> dict:
    """Assert the API's one error shape with ``status`` and ``code``; return the error.

    With ``message=False``, the message may be empty.
    """
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["code"] == code
    if message:
        assert body["error"]["message"]
    return body["error"]


# --- Staff --------------------------------------------------------------------------------------


def agent(username: str | None = None) -> User:
    return staff_member(Role.MEDIATION_AGENT, username)


def arbitrator(username: str | None = None) -> User:
    return staff_member(Role.ARBITRATOR, username)


def support(username: str | None = None) -> User:
    return staff_member(Role.SUPPORT, username)


def staff_in_every_role(username: str | None = None) -> User:
    """A staff member who is a mediation agent, an arbitrator and support at once."""
    user = UserFactory(**({"username": username} if username else {}))
    for role in Role:
        grant(user, role)
    return user


def suspend(user: User, *, by: User | None = None, reason: str = "Ignored an award.") -> User:
    """Staff (``by``, else a new support member) suspend ``user``'s account."""
    return user_suspend(user=user, actor=by or support(), reason=reason, now=timezone.now())


def suspended(user: User) -> APIClient:
    """An API client of ``user`` once staff suspended the account."""
    by = staff_member(Role.SUPPORT, "sue-support")
    return api_as(suspend(user, by=by, reason="Ignored an award's obligations."))


def grant(user: User, role: Role, *, is_staff: bool = True) -> User:
    """Put ``user`` in ``role``'s group (and, unless told otherwise, let them into the admin)."""
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if is_staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    user.__dict__.pop("_role_groups", None)
    return user


# --- Stages -------------------------------------------------------------------------------------


def submitted(contract, *, amount: str = "500.00", now=None) -> Milestone:
    """A milestone funded and with work submitted: its auto-release deadline runs."""
    from contracts import services

    now = now or timezone.now()
    milestone = services.milestone_create(
        contract=contract, actor=contract.client, title="Milestone", amount=amount, now=now
    )
    services.milestone_fund(milestone=milestone, actor=contract.client, now=now)
    services.milestone_submit(
        milestone=milestone, actor=contract.freelancer, message="Here is the work.", now=now
    )
    return reload(milestone)


def ended(contract, *, paid: str = "200.00", amount: str = "500.00", now=None):
    """Funded ``amount``, then ended paying ``paid``: the open refund request."""
    return end_contract(contract, paid=paid, amount=amount, now=now)


def filed(contract, *, amount: str = "250.00", now=None):
    """A dispute of ``amount`` on 300 asked back (500 funded, 200 paid): awaiting the client."""
    return file_dispute(end_contract(contract, now=now), amount=amount, now=now)


def declined(contract, *, now=None):
    """A dispute the client declined: in mediation."""
    return declined_dispute(contract, now=now)


def proposed(contract, by: User, *, to_freelancer="150.00", to_client="150.00", now=None):
    """In mediation with a resolution proposed by the agent ``by``."""
    from mediation import services as mediation

    now = now or timezone.now()
    dispute = declined_dispute(contract, now=now)
    mediation.resolution_propose(
        dispute=dispute,
        agent=by,
        to_freelancer=to_freelancer,
        to_client=to_client,
        rationale="Half each.",
        now=now,
    )
    dispute.refresh_from_db()
    return dispute


def window(contract, by: User, *, now=None):
    """A resolution the client rejected: the arbitration window is open."""
    from mediation import services as mediation

    now = now or timezone.now()
    dispute = proposed(contract, by, now=now)
    mediation.resolution_answer(dispute=dispute, actor=contract.client, accept=False, now=now)
    dispute.refresh_from_db()
    return dispute


def case(contract, by: User, *, now=None):
    """Both parties paid their fees: the arbitration case is open."""
    from arbitration import services as arbitration

    now = now or timezone.now()
    dispute = window(contract, by, now=now)
    for party in (contract.freelancer, contract.client):
        arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=now)
    dispute.refresh_from_db()
    return dispute


# --- Books --------------------------------------------------------------------------------------


def reload(row):
    """``row`` as the database has it now (a milestone with its escrow account and contract)."""
    if isinstance(row, Milestone):
        return Milestone.objects.select_related("escrow_account", "contract").get(pk=row.pk)
    return type(row).objects.get(pk=row.pk)


def ledger_rows() -> int:
    return LedgerTransaction.objects.count()


def balance(kind: str, user: User | None = None, currency: str = "USD") -> Decimal:
    account = Account.objects.filter(kind=kind, owner=user, currency=currency).first()
    return account.balance if account else Decimal("0.00")


def books(contract, *, fees: bool = False) -> dict[str, Decimal]:
    """Where the contract's money is, as a bookkeeper reads it.

    With ``fees``, also what the freelancer paid in (an arbitration fee) and the platform's fees.
    """
    escrow = sum(
        (m.escrow_account.balance for m in contract.milestones.select_related("escrow_account")),
        Decimal(0),
    )
    books = {
        "client paid in": -balance(Account.Kind.FUNDING, contract.client, contract.currency),
        "client refunded": balance(Account.Kind.REFUNDS, contract.client, contract.currency),
        "freelancer earned": balance(Account.Kind.EARNINGS, contract.freelancer, contract.currency),
        "escrow": escrow,
    }
    if fees:
        books["freelancer paid in"] = -balance(
            Account.Kind.FUNDING, contract.freelancer, contract.currency
        )
        books["platform fees"] = balance(Account.Kind.PLATFORM_FEES, None, contract.currency)
    return books


def pdf(name: str = "report.pdf", content: bytes = PDF_BYTES) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


# --- Stages at one moment -----------------------------------------------------------------------
#
# The builders above fund their milestone at the clock's time; these take every step at ``now``,
# so a stage can be built in the past and a deadline sweep run over it (an expired refund request,
# an expired resolution, a closed evidence request).

DISPUTE_STAGES = (
    "draft",
    "filed",
    "accepted",
    "declined",
    "proposed",
    "window",
    "case",
    "awarded",
    "lapsed",
)


def funded(contract, *, amount: str = "500.00", now=None) -> Milestone:
    """A milestone funded by the client: money in escrow, no work submitted yet."""
    from contracts import services

    now = now or timezone.now()
    milestone = services.milestone_create(
        contract=contract, actor=contract.client, title="Milestone", amount=amount, now=now
    )
    services.milestone_fund(milestone=milestone, actor=contract.client, now=now)
    return reload(milestone)


def refund_request(contract, *, paid: str = "200.00", amount: str = "500.00", now=None):
    """``ended`` with every step at ``now``: funded ``amount``, ended paying ``paid``."""
    from disputes import services as disputes

    now = now or timezone.now()
    milestone = funded(contract, amount=amount, now=now)
    (request,) = disputes.contract_end(
        contract=contract, actor=contract.client, payments={milestone.pk: paid}, now=now
    )
    return request


def draft(request, *, amount: str = "250.00", now=None):
    """A complete draft dispute of ``amount`` on ``request``, not submitted: its clock runs."""
    return draft_dispute(request, amount=amount, now=now)


def dispute_at(stage: str, contract, *, agent=None, arbitrator=None, now=None):
    """A dispute of 250 on 300 asked back (500 funded, 200 paid) at ``stage``, every step at
    ``now``: one of ``DISPUTE_STAGES``.

    ``draft`` is not submitted; ``filed`` awaits the client; ``accepted`` the client accepted
    (closed, the escrow split); ``declined`` is in mediation; ``proposed`` has a 150/150
    resolution by ``agent``; ``window`` the client rejected it; ``case`` both paid their fees;
    ``awarded`` ``arbitrator`` awarded 150/150 (closed); ``lapsed`` the freelancer accepted the
    refund request while drafting.
    """
    from arbitration import services as arbitration
    from disputes import services as disputes
    from mediation import services as mediation

    if stage not in DISPUTE_STAGES:
        raise ValueError(f"unknown stage {stage!r}")
    now = now or timezone.now()
    request = refund_request(contract, now=now)
    dispute = draft(request, now=now)
    if stage == "lapsed":
        disputes.refund_request_accept(refund_request=request, actor=contract.freelancer, now=now)
        return _fresh(dispute)
    if stage == "draft":
        return _fresh(dispute)
    disputes.dispute_submit(dispute=dispute, actor=contract.freelancer, now=now)
    if stage == "accepted":
        disputes.dispute_accept(dispute=dispute, actor=contract.client, now=now)
    if stage in ("filed", "accepted"):
        return _fresh(dispute)
    disputes.dispute_decline(
        dispute=dispute, actor=contract.client, reason="The work was incomplete.", now=now
    )
    if stage == "declined":
        return _fresh(dispute)
    mediation.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer="150.00",
        to_client="150.00",
        rationale="Half each.",
        now=now,
    )
    if stage == "proposed":
        return _fresh(dispute)
    mediation.resolution_answer(dispute=dispute, actor=contract.client, accept=False, now=now)
    if stage == "window":
        return _fresh(dispute)
    for party in (contract.freelancer, contract.client):
        arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=now)
    if stage == "awarded":
        arbitration.award_issue(
            dispute=dispute,
            arbitrator=arbitrator,
            to_freelancer="150.00",
            to_client="150.00",
            reasons="Both sides delivered half of what they promised.",
            now=now,
        )
    return _fresh(dispute)


def evidence_request(dispute, arbitrator, *, party: str = "freelancer", due_at=None, now=None):
    """In an open case, ``arbitrator`` asks ``party`` for more evidence by ``due_at``."""
    from datetime import timedelta

    from arbitration import services as arbitration

    now = now or timezone.now()
    return arbitration.evidence_request_create(
        dispute=dispute,
        arbitrator=arbitrator,
        party=party,
        message="Send the delivery e-mails.",
        due_at=due_at or now + timedelta(days=3),
        now=now,
    )


def support_case(milestone, *, now=None):
    """The freelancer asks support for help with a funded milestone the client does not pay."""
    from disputes import services as disputes

    now = now or timezone.now()
    return disputes.support_case_open(
        milestone=milestone,
        actor=milestone.contract.freelancer,
        description="The work was delivered three weeks ago and the client does not answer.",
        now=now,
    )


def _fresh(dispute):
    from disputes.models import Dispute

    return Dispute.objects.select_related("refund_request__contract").get(pk=dispute.pk)


def declare_broken_sweep(monkeypatch, sweep: str = "tests.broken") -> None:
    """Declare, for one test, a deadline whose sweep fails as a whole (it cannot read its rows)."""
    from dataclasses import replace

    from core import deadlines
    from disputes.models import RefundRequest

    def unreadable(rows):
        raise RuntimeError("the sweep itself is broken")

    broken = replace(
        deadlines.kind("refund_request_response", RefundRequest),
        name="tests_broken",
        sweep=sweep,
        reminder_sweep="",
        remind=None,
        load=unreadable,
        order=99,
    )
    monkeypatch.setitem(deadlines._kinds, ("disputes.refundrequest", "tests_broken"), broken)
