"""``core.stamps``: a stamp per user that changes with every change to the user's cases."""

from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contracts.models import Contract, Milestone
from core import stamps
from tests.kit import ContractFactory, make_milestone

pytestmark = [pytest.mark.django_db, pytest.mark.kept_lists]


class TestStamp:
    def test_holds_until_touched_by_a_persons_action(self):
        first = stamps.of(7)

        assert stamps.of(7) == first
        stamps.touch([7])
        assert stamps.of(7) != first

    def test_a_sweeps_touch_drops_it_when_the_transaction_commits(
        self, django_capture_on_commit_callbacks
    ):
        before = stamps.of(7)

        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            stamps.touch([7], at_once=False)
            stamps.touch([8, 7], at_once=False)
            assert stamps.of(7) == before  # a reader before the commit: the rows as before

        assert len(callbacks) == 1  # one drop for the whole transaction
        assert stamps.of(7) != before

    def test_a_rolled_back_change_drops_nothing_at_commit(self, django_capture_on_commit_callbacks):
        before = stamps.of(7)

        with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
            try:
                with transaction.atomic():
                    stamps.touch([7], at_once=False)
                    raise RuntimeError
            except RuntimeError:
                pass

        assert callbacks == []
        assert stamps.of(7) == before

    def test_keeps_a_result_under_the_stamp(self):
        computed = []

        def compute():
            computed.append(1)
            return {"n": len(computed)}

        assert stamps.get_or_compute(("a",), compute, user_id=7) == {"n": 1}
        assert stamps.get_or_compute(("a",), compute, user_id=7) == {"n": 1}
        assert stamps.get_or_compute(("b",), compute, user_id=7) == {"n": 2}
        assert stamps.get_or_compute(("a",), compute, user_id=8) == {"n": 3}
        stamps.touch([7])
        assert stamps.get_or_compute(("a",), compute, user_id=7) == {"n": 4}

    def test_keeps_nothing_when_turned_off(self, settings):
        settings.STAMPED_CACHE_SECONDS = 0
        computed = []

        for _ in range(2):
            stamps.get_or_compute(("a",), lambda: computed.append(1), user_id=7)

        assert len(computed) == 2

    def test_a_cache_that_cannot_be_reached_is_never_an_error(self, settings):
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
            }
        }
        computed = []

        assert stamps.of(7) is None
        stamps.touch([7])
        for _ in range(2):
            stamps.get_or_compute(("a",), lambda: computed.append(1), user_id=7)
        assert len(computed) == 2


class TestPartyIds:
    """Who a change concerns: the two parties of each row's contract."""

    def test_reads_loaded_rows_without_a_query(self, contract):
        milestone = Milestone.objects.select_related("contract").get(pk=make_milestone(contract).pk)

        with CaptureQueriesContext(connection) as queries:
            ids = Milestone.lifecycle.party_ids([milestone])

        assert ids == {contract.client_id, contract.freelancer_id}
        assert queries.captured_queries == []

    def test_reads_the_others_in_one_query(self, contract):
        other_contract = ContractFactory()
        rows = list(
            Milestone.objects.filter(
                pk__in=[make_milestone(contract).pk, make_milestone(other_contract).pk]
            )
        )

        with CaptureQueriesContext(connection) as queries:
            ids = Milestone.lifecycle.party_ids(rows)

        assert ids == {
            contract.client_id,
            contract.freelancer_id,
            other_contract.client_id,
            other_contract.freelancer_id,
        }
        assert len(queries.captured_queries) == 1

    def test_takes_a_stand_in_with_its_contract(self):
        row = SimpleNamespace(pk=1, contract=SimpleNamespace(client_id=3, freelancer_id=4))

        assert Milestone.lifecycle.party_ids([row]) == {3, 4}

    def test_a_contract_is_its_own_path(self, contract):
        assert Contract.lifecycle.party_ids([contract]) == {
            contract.client_id,
            contract.freelancer_id,
        }
