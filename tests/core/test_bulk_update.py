"""``core.bulk.update``: each row's own values in one UPDATE over arrays (PostgreSQL)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from disputes.models import RefundRequest, TimelineEvent
from tests.kit import ContractFactory, refund_request

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

T1 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
T2 = datetime(2026, 3, 2, 17, 45, 12, 345678, tzinfo=UTC)


@pytest.fixture
def events(client_user, freelancer):
    from core import bulk  # noqa: F401  (PostgreSQL only: imported where it runs)

    requests = [
        refund_request(ContractFactory(client=client_user, freelancer=freelancer)) for _ in range(3)
    ]
    return [TimelineEvent.objects.filter(refund_request=r).first() for r in requests]


class TestUpdate:
    def test_sets_each_rows_own_values_and_the_constant_ones(self, events, client_user):
        from core import bulk

        rows = [
            (events[0].pk, {"deadline_due_at": T1, "amounts": {"a": "1.00"}, "actor": client_user}),
            (events[1].pk, {"deadline_due_at": None, "amounts": {}, "actor": None}),
            (events[2].pk, {"deadline_due_at": T2, "amounts": {"b": [1, 2]}, "actor": client_user}),
        ]
        kinds = {e.deadline_kind for e in events}

        written = bulk.update(
            TimelineEvent, rows, constant={"note": "moved"}, where={"deadline_kind": kinds}
        )

        assert written == 3
        found = {e.pk: e for e in TimelineEvent.objects.filter(pk__in=[e.pk for e in events])}
        assert [found[pk].deadline_due_at for pk, _ in rows] == [T1, None, T2]
        assert [found[pk].amounts for pk, _ in rows] == [{"a": "1.00"}, {}, {"b": [1, 2]}]
        assert [found[pk].actor_id for pk, _ in rows] == [client_user.pk, None, client_user.pk]
        assert {found[pk].note for pk, _ in rows} == {"moved"}

    def test_writes_only_the_rows_that_still_hold_an_allowed_value(self, events):
        from core import bulk

        RefundRequest.objects.filter(pk=events[0].refund_request_id).update(
            status=RefundRequest.Status.EXPIRED
        )
        requests = [e.refund_request_id for e in events]
        rows = [
            (pk, {"escrowed": Decimal(f"{n}00.25"), "amount": Decimal(f"{n - 2}00.25")})
            for n, pk in enumerate(requests, 3)
        ]

        written = bulk.update(
            RefundRequest,
            rows,
            constant={"status": RefundRequest.Status.ACCEPTED},
            where={"status": [RefundRequest.Status.OPEN]},
        )

        assert written == 2
        found = dict(RefundRequest.objects.filter(pk__in=requests).values_list("pk", "status"))
        assert found[requests[0]] == "EXPIRED"
        assert found[requests[1]] == found[requests[2]] == "ACCEPTED"
        amounts = dict(RefundRequest.objects.filter(pk__in=requests).values_list("pk", "amount"))
        assert amounts[requests[1]] == Decimal("200.25")
        assert amounts[requests[2]] == Decimal("300.25")
        assert amounts[requests[0]] == Decimal("300.00")  # as it was

    def test_writes_nothing_for_no_rows(self):
        from core import bulk

        assert bulk.update(TimelineEvent, [], constant={"note": "x"}, where={}) == 0

    def test_sets_a_constant_json_value_beside_varying_ones(self, events):
        from core import bulk

        rows = [(events[0].pk, {"deadline_due_at": T1}), (events[1].pk, {"deadline_due_at": T2})]

        written = bulk.update(
            TimelineEvent,
            rows,
            constant={"amounts": {"total": "9.99"}},
            where={"deadline_kind": {e.deadline_kind for e in events}},
        )

        assert written == 2
        found = TimelineEvent.objects.filter(pk__in=[events[0].pk, events[1].pk]).order_by("pk")
        assert [e.amounts for e in found] == [{"total": "9.99"}] * 2
        assert TimelineEvent.objects.get(pk=events[2].pk).amounts != {"total": "9.99"}
