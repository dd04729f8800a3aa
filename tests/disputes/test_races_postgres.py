"""A person and a deadline acting on the same row at the same moment, on PostgreSQL."""

from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import timezone

from contracts.models import LedgerTransaction
from core import deadlines
from core.errors import DomainError
from disputes import services
from disputes.models import Dispute, RefundRequest, TimelineEvent
from tests.contracts.test_ledger_postgres import run_at_once
from tests.kit import ContractFactory, end_contract, file_dispute

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = timezone.datetime(2026, 7, 1, 10, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)


def settlements_of(milestone_id: int) -> int:
    """Ledger transactions that paid out a held escrow (not its funding or the payment)."""
    return LedgerTransaction.objects.filter(
        milestone_id=milestone_id, memo__startswith="Settle"
    ).count()


class TestClientAnswerAgainstTheSweep:
    def test_exactly_one_outcome_and_one_transaction_each_time(self, client_user, freelancer):
        outcomes = Counter()
        for _ in range(12):
            contract = ContractFactory(client=client_user, freelancer=freelancer)
            dispute = file_dispute(end_contract(contract, now=START), amount="100.00", now=START)
            due = dispute.response_due_at

            accept, sweep = run_at_once(
                partial(
                    services.dispute_accept,
                    dispute=dispute,
                    actor=contract.client,
                    now=due - MICROSECOND,
                ),
                partial(deadlines.sweep, "disputes.client_answers_expire", now=due, batch_size=100),
            )

            dispute.refresh_from_db()
            assert dispute.status == Dispute.Status.CLOSED
            if isinstance(accept, Dispute):
                assert sweep == 0
                assert dispute.outcome == Dispute.Outcome.CLIENT_ACCEPTED
            else:
                assert isinstance(accept, DomainError), accept
                assert sweep == 1
                assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT
            outcomes[dispute.outcome] += 1
            assert settlements_of(dispute.milestone_id) == 1
            assert (
                TimelineEvent.objects.filter(
                    dispute=dispute, kind__in=["DISPUTE_ACCEPTED", "CLIENT_SILENT"]
                ).count()
                == 1
            )
        assert sum(outcomes.values()) == 12
        print("outcomes of the race:", dict(outcomes))
        call_command("check_ledger")


class TestFreelancerAnswerAgainstTheSweep:
    def test_exactly_one_refund_each_time(self, client_user, freelancer):
        for _ in range(8):
            contract = ContractFactory(client=client_user, freelancer=freelancer)
            request = end_contract(contract, now=START)
            due = request.response_due_at

            accept, sweep = run_at_once(
                partial(
                    services.refund_request_accept,
                    refund_request=request,
                    actor=contract.freelancer,
                    now=due - MICROSECOND,
                ),
                partial(
                    deadlines.sweep, "disputes.refund_requests_expire", now=due, batch_size=100
                ),
            )

            request.refresh_from_db()
            assert request.status in (RefundRequest.Status.ACCEPTED, RefundRequest.Status.EXPIRED)
            assert (request.status == RefundRequest.Status.ACCEPTED) == isinstance(
                accept, RefundRequest
            )
            assert sweep == (0 if isinstance(accept, RefundRequest) else 1)
            assert (
                LedgerTransaction.objects.filter(
                    milestone_id=request.milestone_id, kind="REFUND"
                ).count()
                == 1
            )
        call_command("check_ledger")


class TestTwoSweepsAtOnce:
    def test_split_the_due_rows_and_never_move_money_twice(self, client_user, freelancer):
        requests = [
            end_contract(ContractFactory(client=client_user, freelancer=freelancer), now=START)
            for _ in range(30)
        ]
        due = requests[0].response_due_at

        first, second = run_at_once(
            lambda: deadlines.enforce_deadlines(now=due, batch_size=4),
            lambda: deadlines.enforce_deadlines(now=due, batch_size=4),
        )

        handled = (
            first["disputes.refund_requests_expire"] + second["disputes.refund_requests_expire"]
        )
        assert handled == 30
        assert RefundRequest.objects.filter(status=RefundRequest.Status.EXPIRED).count() == 30
        assert LedgerTransaction.objects.filter(kind="REFUND").count() == 30
        assert TimelineEvent.objects.filter(kind="REFUND_EXPIRED").count() == 30
        call_command("check_ledger")


class TestAfterAWeekOfDowntime:
    def test_one_sweep_handles_every_overdue_row_once(self, client_user, freelancer):
        requests = []
        disputes = []
        for day in range(6):
            moment = START + timedelta(days=day)
            requests.append(
                end_contract(ContractFactory(client=client_user, freelancer=freelancer), now=moment)
            )
            disputes.append(
                file_dispute(
                    end_contract(
                        ContractFactory(client=client_user, freelancer=freelancer), now=moment
                    ),
                    now=moment,
                )
            )
        back_up = START + timedelta(days=14)

        first = deadlines.enforce_deadlines(now=back_up, batch_size=5)
        again = deadlines.enforce_deadlines(now=back_up)

        assert first["disputes.refund_requests_expire"] == 6
        assert first["disputes.client_answers_expire"] == 6
        assert sum(again.values()) == 0
        assert LedgerTransaction.objects.filter(kind="REFUND").count() == 6
        assert LedgerTransaction.objects.filter(kind="SETTLEMENT").count() == 6
        call_command("check_ledger")
