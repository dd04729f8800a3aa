"""Every sweep kind handles its due rows in batches, as refund expiry does: as many queries for a
batch of nine rows as for a batch of three, and the same rows, columns and timeline whatever the
batch size."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from arbitration import services as arbitration
from arbitration.models import ArbitrationCase, ArbitrationFee, EvidenceRequest
from contracts.models import LedgerTransaction, Milestone
from core import deadlines
from disputes.models import TimelineEvent
from mediation.models import Resolution
from tests.kit import (
    ContractFactory,
    agent,
    arbitrator,
    dispute_at,
    evidence_request,
    make_milestone,
)

pytestmark = pytest.mark.django_db

LATER = timedelta(days=30)


@pytest.fixture(autouse=True)
def _fee(settings):
    settings.ARBITRATION_FEE = {"USD": "50.00"}


def auto_release(count, now):
    return [make_milestone(ContractFactory(), submitted=True) for _ in range(count)]


def resolutions(count, now):
    staff = agent()
    return [dispute_at("proposed", ContractFactory(), agent=staff, now=now) for _ in range(count)]


def windows(count, now):
    """Arbitration windows: neither paid, only the freelancer, only the client, in turn."""
    staff = agent()
    rows = []
    for index in range(count):
        contract = ContractFactory()
        dispute = dispute_at("window", contract, agent=staff, now=now)
        payer = (None, contract.freelancer, contract.client)[index % 3]
        if payer is not None:
            arbitration.arbitration_fee_pay(dispute=dispute, actor=payer, now=now)
        rows.append(dispute)
    return rows


def evidence(count, now):
    staff, judge = agent(), arbitrator()
    rows = []
    for _ in range(count):
        dispute = dispute_at("case", ContractFactory(), agent=staff, now=now)
        rows.append(evidence_request(dispute, judge, now=now))
    return rows


DEADLINES = {
    "contracts.auto_release": "auto_release",
    "mediation.resolutions_expire": "resolution_response",
    "arbitration.windows_close": "arbitration_window",
    "arbitration.evidence_requests_close": "evidence_request",
}

KINDS = {
    "contracts.auto_release": auto_release,
    "mediation.resolutions_expire": resolutions,
    "arbitration.windows_close": windows,
    "arbitration.evidence_requests_close": evidence,
}


def outcome(rows) -> list[tuple]:
    """What a sweep leaves of ``rows``, with the times relative to the deadline."""
    model = type(rows[0])
    fresh = model._base_manager.filter(pk__in=[r.pk for r in rows]).order_by("pk")
    result = []
    for row in fresh:
        if isinstance(row, Milestone):
            result.append((row.status, row.escrow_account.balance))
            continue
        if isinstance(row, EvidenceRequest):
            result.append((row.status, row.closed_at is not None))
            continue
        result.append(
            (
                row.status,
                row.outcome,
                row.response_due_at and row.response_due_at - row.stage_started_at,
                sorted(TimelineEvent.objects.filter(dispute=row).values_list("kind", flat=True)),
                sorted(ArbitrationFee.objects.filter(dispute=row).values_list("party", "status")),
                ArbitrationCase.objects.filter(dispute=row).exists(),
                Resolution.objects.filter(dispute=row).values_list("status", flat=True).first(),
            )
        )
    return result


@pytest.mark.parametrize("name", list(KINDS))
class TestSweepBatches:
    # On SQLite the ledger sets each account's balance by itself (in Decimal, see
    # contracts.ledger); PostgreSQL writes a whole batch of movements in three statements.
    @pytest.mark.postgres
    def test_a_batch_of_nine_costs_the_queries_of_a_batch_of_three(self, name):
        now = timezone.now()
        three = KINDS[name](3, now)
        nine = KINDS[name](9, now)
        model = type(three[0])._base_manager
        due = deadlines.kind(DEADLINES[name], type(three[0])).due_field
        # The three rows fall due first, the nine a day later.
        model.filter(pk__in=[r.pk for r in three]).update(**{due: now + timedelta(days=1)})
        model.filter(pk__in=[r.pk for r in nine]).update(**{due: now + timedelta(days=2)})

        with CaptureQueriesContext(connection) as first:
            handled_three = deadlines.sweep(name, now=now + timedelta(days=1), batch_size=20)
        first = len(first.captured_queries)
        with CaptureQueriesContext(connection) as second:
            handled_nine = deadlines.sweep(name, now=now + timedelta(days=2), batch_size=20)
        second = len(second.captured_queries)

        assert (handled_three, handled_nine) == (3, 9)
        assert second == first

    def test_batches_of_four_give_what_one_row_at_a_time_gives(self, name):
        now = timezone.now()
        one_by_one = KINDS[name](6, now)
        deadlines.sweep(name, now=now + LATER, batch_size=1)
        batched = KINDS[name](6, now)

        handled = deadlines.sweep(name, now=now + LATER, batch_size=4)

        assert handled == 6
        assert outcome(batched) == outcome(one_by_one)
        assert LedgerTransaction.objects.count() > 0
