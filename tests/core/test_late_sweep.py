"""A late sweep never changes a person's outcome.

The resolution's answer is due at T and no sweep runs. At T + 3 days the arbitration window
that the notice would have opened at T is open for the parties, so paying the fee then counts,
exactly as if the sweep had run on time; the window, dated from T, closes at T + 7 days.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from arbitration import services as arbitration
from core import deadlines
from disputes.models import Dispute
from tests.kit import agent, api_as, assert_error, books, proposed

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fee(settings):
    settings.ARBITRATION_FEE_FIXED = "50.00"
    settings.ARBITRATION_FEE_PERCENT = "0"


@pytest.fixture
def dispute(contract):
    return proposed(contract, agent("mia-agent"))


class TestPayingTheFeeWhileTheSweepIsLate:
    def test_the_payment_counts_in_the_window_the_notice_would_have_opened(self, dispute):
        due = dispute.response_due_at
        freelancer = dispute.refund_request.contract.freelancer

        with time_machine.travel(due + timedelta(days=3), tick=False):
            response = api_as(freelancer).post(
                f"/api/v1/disputes/{dispute.pk}/arbitration/pay-fee/"
            )
        deadlines.enforce_deadlines(now=due + timedelta(days=8))

        assert response.status_code == 200, response.content
        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.ONLY_FREELANCER_PAID
        assert books(dispute.refund_request.contract)["freelancer earned"] == Decimal("500.00")

    def test_the_window_is_dated_from_the_resolutions_deadline(self, dispute):
        due = dispute.response_due_at
        freelancer = dispute.refund_request.contract.freelancer

        arbitration.arbitration_fee_pay(
            dispute=dispute, actor=freelancer, now=due + timedelta(days=1)
        )

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
        assert dispute.stage_started_at == due
        assert dispute.response_due_at == due + timedelta(days=7)

    def test_after_the_window_too_both_deadlines_apply_and_the_payment_is_refused(self, dispute):
        due = dispute.response_due_at
        client = dispute.refund_request.contract.client

        with time_machine.travel(due + timedelta(days=8), tick=False):
            response = api_as(client).post(f"/api/v1/disputes/{dispute.pk}/arbitration/pay-fee/")

        assert_error(response, 409, "deadline_passed")
        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.NO_ARBITRATION
        assert books(dispute.refund_request.contract)["client refunded"] == Decimal("300.00")

    def test_answering_the_resolution_late_is_still_refused(self, dispute):
        due = dispute.response_due_at
        client = dispute.refund_request.contract.client

        with time_machine.travel(due + timedelta(days=3), tick=False):
            response = api_as(client).post(f"/api/v1/disputes/{dispute.pk}/resolution/accept/")

        assert_error(response, 409, "deadline_passed")
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
