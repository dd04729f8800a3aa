"""Answers and payments at the last moment, racing the sweep, on PostgreSQL."""

from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from arbitration import services as arbitration
from arbitration.models import ArbitrationCase, ArbitrationFee
from contracts.models import LedgerTransaction
from core import deadlines
from disputes.models import Dispute
from mediation import services as mediation
from mediation.models import Resolution
from tests.contracts.test_ledger_postgres import run_at_once
from tests.kit import ContractFactory, declined_dispute, staff_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = timezone.datetime(2026, 8, 3, 9, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)


def proposed(client_user, freelancer, agent):
    contract = ContractFactory(client=client_user, freelancer=freelancer)
    dispute = declined_dispute(contract, now=START)
    mediation.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer="100.00",
        to_client="200.00",
        rationale="A third of the work was usable.",
        now=START,
    )
    dispute.refresh_from_db()
    return contract, dispute


class TestAnAcceptanceAgainstTheResolutionsExpiry:
    def test_exactly_one_outcome_each_time(self, client_user, freelancer):
        agent = staff_member(Role.MEDIATION_AGENT, "mia-agent")
        seen = Counter()
        for _ in range(10):
            contract, dispute = proposed(client_user, freelancer, agent)
            mediation.resolution_answer(
                dispute=dispute, actor=contract.freelancer, accept=True, now=START
            )
            due = dispute.response_due_at

            answer, sweep = run_at_once(
                partial(
                    mediation.resolution_answer,
                    dispute=dispute,
                    actor=contract.client,
                    accept=True,
                    now=due - MICROSECOND,
                ),
                partial(deadlines.sweep, "mediation.resolutions_expire", now=due, batch_size=50),
            )

            dispute.refresh_from_db()
            resolution = Resolution.objects.get(dispute=dispute)
            if isinstance(answer, Resolution):
                assert sweep == 0
                assert resolution.status == Resolution.Status.ACCEPTED
                assert dispute.status == Dispute.Status.CLOSED
            else:
                assert sweep == 1
                assert resolution.status == Resolution.Status.EXPIRED
                assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
            seen[dispute.status] += 1
            assert (
                dispute.timeline.filter(kind__in=["RESOLUTION_SETTLED", "NON_RESOLUTION"]).count()
                == 1
            )
            assert LedgerTransaction.objects.filter(
                milestone_id=dispute.milestone_id, memo__startswith="Settle"
            ).count() == (1 if dispute.status == Dispute.Status.CLOSED else 0)
        print("outcomes of the race:", dict(seen))
        call_command("check_ledger")


class TestBothFeesAtTheLastMomentAgainstTheWindowsClose:
    def test_exactly_one_outcome_each_time(self, client_user, freelancer):
        agent = staff_member(Role.MEDIATION_AGENT, "mia-agent")
        seen = Counter()
        for _ in range(10):
            contract, dispute = proposed(client_user, freelancer, agent)
            mediation.resolution_answer(
                dispute=dispute, actor=contract.client, accept=False, now=START
            )
            dispute.refresh_from_db()
            due = dispute.response_due_at

            results = run_at_once(
                partial(
                    arbitration.arbitration_fee_pay,
                    dispute=dispute,
                    actor=contract.freelancer,
                    now=due - MICROSECOND,
                ),
                partial(
                    arbitration.arbitration_fee_pay,
                    dispute=dispute,
                    actor=contract.client,
                    now=due - MICROSECOND,
                ),
                partial(deadlines.sweep, "arbitration.windows_close", now=due, batch_size=50),
            )

            dispute.refresh_from_db()
            paid = ArbitrationFee.objects.filter(dispute=dispute)
            fees = LedgerTransaction.objects.filter(kind="FEE", milestone_id=dispute.milestone_id)
            assert fees.count() == paid.count()
            if dispute.status == Dispute.Status.IN_ARBITRATION:
                assert paid.count() == 2
                assert ArbitrationCase.objects.filter(dispute=dispute).count() == 1
                assert results[2] == 0
            else:
                assert dispute.status == Dispute.Status.CLOSED
                assert results[2] == 1
                assert dispute.outcome in {
                    Dispute.Outcome.NO_ARBITRATION,
                    Dispute.Outcome.ONLY_FREELANCER_PAID,
                    Dispute.Outcome.ONLY_CLIENT_PAID,
                }
                assert paid.filter(refunded_at__isnull=True).count() == 0
            seen[dispute.outcome or dispute.status] += 1
        print("outcomes of the race:", dict(seen))
        call_command("check_ledger")
