"""Every outcome of an ended contract, told as bookkeeping.

Each story: the client funds 500 and ends the contract paying 200, so 300 is asked back.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from contracts.models import Milestone
from core import deadlines
from disputes import services
from disputes.models import Dispute, RefundRequest
from tests.kit import books as balances
from tests.kit import end_contract, file_dispute

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.UTC)


def assert_ledger_clean():
    call_command("check_ledger")


@pytest.fixture
def request_300(contract):
    return end_contract(contract, paid="200.00", amount="500.00", now=START)


class TestEndedContract:
    def test_ending_releases_the_payment_and_asks_the_rest_back(self, contract, request_300):
        assert request_300.amount == Decimal("300.00")
        assert request_300.response_due_at == START + timedelta(days=7)
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("0.00"),
            "freelancer earned": Decimal("200.00"),
            "escrow": Decimal("300.00"),
        }
        assert contract.milestones.get().status == Milestone.Status.HELD

    def test_freelancer_accepts_the_refund(self, contract, request_300):
        services.refund_request_accept(
            refund_request=request_300, actor=contract.freelancer, now=START + timedelta(days=1)
        )

        request_300.refresh_from_db()
        assert request_300.status == RefundRequest.Status.ACCEPTED
        assert contract.milestones.get().status == Milestone.Status.REFUNDED
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("300.00"),
            "freelancer earned": Decimal("200.00"),
            "escrow": Decimal("0.00"),
        }
        assert_ledger_clean()

    def test_freelancer_silent_for_7_days_refunds_the_client(self, contract, request_300):
        deadlines.enforce_deadlines(now=START + timedelta(days=7))

        request_300.refresh_from_db()
        assert request_300.status == RefundRequest.Status.EXPIRED
        assert balances(contract)["client refunded"] == Decimal("300.00")
        assert balances(contract)["freelancer earned"] == Decimal("200.00")
        assert balances(contract)["escrow"] == Decimal("0.00")
        assert_ledger_clean()

    def test_client_accepts_the_dispute(self, contract, request_300):
        dispute = file_dispute(request_300, amount="250.00", now=START + timedelta(days=2))

        services.dispute_accept(
            dispute=dispute, actor=contract.client, now=START + timedelta(days=3)
        )

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.CLOSED
        assert dispute.outcome == Dispute.Outcome.CLIENT_ACCEPTED
        assert contract.milestones.get().status == Milestone.Status.SETTLED
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("50.00"),
            "freelancer earned": Decimal("450.00"),
            "escrow": Decimal("0.00"),
        }
        assert_ledger_clean()

    def test_client_silent_for_5_days_releases_the_disputed_amount(self, contract, request_300):
        dispute = file_dispute(request_300, amount="300.00", now=START + timedelta(days=6))

        deadlines.enforce_deadlines(now=START + timedelta(days=11))

        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT
        assert contract.milestones.get().status == Milestone.Status.RELEASED
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("0.00"),
            "freelancer earned": Decimal("500.00"),
            "escrow": Decimal("0.00"),
        }
        assert_ledger_clean()

    def test_client_declines_and_the_money_waits_in_escrow_for_mediation(
        self, contract, request_300
    ):
        dispute = file_dispute(request_300, amount="250.00", now=START + timedelta(days=1))

        services.dispute_decline(
            dispute=dispute,
            actor=contract.client,
            reason="Two of the five pages were never delivered.",
            now=START + timedelta(days=2),
        )
        deadlines.enforce_deadlines(now=START + timedelta(days=30))

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert dispute.current_deadline().party == "agent"
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("0.00"),
            "freelancer earned": Decimal("200.00"),
            "escrow": Decimal("300.00"),
        }
        assert_ledger_clean()

    def test_ending_with_nothing_paid_asks_everything_back(self, contract):
        request = end_contract(contract, paid="0", amount="500.00", now=START)

        assert request.paid == Decimal("0.00")
        assert request.amount == Decimal("500.00")
        assert balances(contract)["freelancer earned"] == Decimal("0.00")

    def test_a_draft_dispute_does_not_stop_the_clock(self, contract, request_300):
        dispute = services.dispute_start(
            refund_request=request_300,
            actor=contract.freelancer,
            feedback_rating=3,
            feedback_comment="Slow to answer.",
            now=START + timedelta(days=1),
        )

        deadlines.enforce_deadlines(now=START + timedelta(days=7))

        dispute.refresh_from_db()
        request_300.refresh_from_db()
        assert dispute.status == Dispute.Status.LAPSED
        assert request_300.status == RefundRequest.Status.EXPIRED
        assert balances(contract)["client refunded"] == Decimal("300.00")
        assert_ledger_clean()


class TestActiveContract:
    def test_submitted_work_is_released_14_days_after_submission(self, contract):
        from tests.kit import make_milestone

        with time_machine.travel(START, tick=False):
            milestone = make_milestone(contract, amount="500.00", submitted=True)

        deadlines.enforce_deadlines(now=START + timedelta(days=14))

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.RELEASED
        assert balances(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("0.00"),
            "freelancer earned": Decimal("500.00"),
            "escrow": Decimal("0.00"),
        }
        assert_ledger_clean()
