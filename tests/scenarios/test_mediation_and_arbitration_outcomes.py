"""Every outcome after the client declines, told as bookkeeping.

Each story: the client funds 500, ends the contract paying 200, the freelancer disputes 250 of the
300 asked back, and the client declines. R = 300 waits in escrow for the mediation agent. Each
party's arbitration fee is 50.00.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from arbitration import services as arbitration
from core import deadlines
from disputes.models import Dispute
from mediation import services as mediation
from tests import kit
from tests.kit import declined_dispute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("arbitration_fee_of_50")]

START = timezone.datetime(2026, 9, 7, 9, 0, tzinfo=timezone.UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def dispute(contract):
    return declined_dispute(contract, now=START)


def books(contract) -> dict[str, Decimal]:
    # With the arbitration fees: what the freelancer paid in and the platform's fees.
    return kit.books(contract, fees=True)


def propose(dispute, agent, to_freelancer="180.00", to_client="120.00", at=START + HOUR):
    return mediation.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer=to_freelancer,
        to_client=to_client,
        rationale="Four of five pages were delivered; the fifth was a draft.",
        now=at,
    )


def reject(dispute, contract, at=START + 2 * HOUR):
    mediation.resolution_answer(dispute=dispute, actor=contract.client, accept=False, now=at)
    dispute.refresh_from_db()
    return dispute


class TestMediation:
    def test_both_accept_and_the_money_moves_as_proposed(self, contract, dispute, agent):
        propose(dispute, agent)

        mediation.resolution_answer(
            dispute=dispute, actor=contract.freelancer, accept=True, now=START + 2 * HOUR
        )
        mediation.resolution_answer(
            dispute=dispute, actor=contract.client, accept=True, now=START + 3 * HOUR
        )

        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.RESOLUTION_ACCEPTED
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("120.00"),
            "freelancer paid in": Decimal("0.00"),
            "freelancer earned": Decimal("380.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("0.00"),
        }
        call_command("check_ledger")

    def test_one_rejects_then_neither_pays_and_the_client_is_refunded(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        mediation.resolution_answer(
            dispute=dispute, actor=contract.freelancer, accept=True, now=START + 2 * HOUR
        )
        dispute = reject(dispute, contract)
        window_end = dispute.response_due_at

        deadlines.enforce_deadlines(now=window_end)

        dispute.refresh_from_db()
        assert window_end == START + 2 * HOUR + timedelta(days=7)
        assert dispute.outcome == Dispute.Outcome.NO_ARBITRATION
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("300.00"),
            "freelancer paid in": Decimal("0.00"),
            "freelancer earned": Decimal("200.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("0.00"),
        }
        call_command("check_ledger")

    def test_silence_on_the_resolution_is_a_notice_of_non_resolution(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        dispute.refresh_from_db()
        answer_due = dispute.response_due_at

        deadlines.enforce_deadlines(now=answer_due)

        dispute.refresh_from_db()
        assert answer_due == START + HOUR + timedelta(days=2)
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
        assert dispute.response_due_at == answer_due + timedelta(days=7)
        assert books(contract)["escrow"] == Decimal("300.00")
        assert dispute.timeline.filter(kind="NON_RESOLUTION").count() == 1

    def test_a_small_claim_is_decided_at_once(self, contract, dispute, agent, settings):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "500.00"

        propose(dispute, agent, to_freelancer="100.00", to_client="200.00")

        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.SMALL_CLAIM
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("200.00"),
            "freelancer paid in": Decimal("0.00"),
            "freelancer earned": Decimal("300.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("0.00"),
        }
        call_command("check_ledger")


class TestArbitration:
    def test_only_the_freelancer_pays_and_receives_r_and_the_fee_back(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        dispute = reject(dispute, contract)
        arbitration.arbitration_fee_pay(
            dispute=dispute, actor=contract.freelancer, now=START + 3 * HOUR
        )

        deadlines.enforce_deadlines(now=dispute.response_due_at)

        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.ONLY_FREELANCER_PAID
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("0.00"),
            "freelancer paid in": Decimal("0.00"),
            "freelancer earned": Decimal("500.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("0.00"),
        }
        call_command("check_ledger")

    def test_only_the_client_pays_and_is_refunded_r_and_the_fee(self, contract, dispute, agent):
        propose(dispute, agent)
        dispute = reject(dispute, contract)
        arbitration.arbitration_fee_pay(
            dispute=dispute, actor=contract.client, now=START + 3 * HOUR
        )

        deadlines.enforce_deadlines(now=dispute.response_due_at)

        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.ONLY_CLIENT_PAID
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("300.00"),
            "freelancer paid in": Decimal("0.00"),
            "freelancer earned": Decimal("200.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("0.00"),
        }
        call_command("check_ledger")

    def test_both_pay_and_the_award_splits_60_40(self, contract, dispute, agent, arbitrator):
        propose(dispute, agent)
        dispute = reject(dispute, contract)
        for party in (contract.freelancer, contract.client):
            arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=START + 3 * HOUR)
        dispute.refresh_from_db()
        status_after_fees = dispute.status

        arbitration.award_issue(
            dispute=dispute,
            arbitrator=arbitrator,
            to_freelancer="180.00",
            to_client="120.00",
            reasons="The delivered pages meet 60% of the agreed scope.",
            now=START + timedelta(days=3),
        )

        dispute.refresh_from_db()
        assert status_after_fees == Dispute.Status.IN_ARBITRATION
        assert dispute.outcome == Dispute.Outcome.AWARDED
        assert books(contract) == {
            "client paid in": Decimal("550.00"),
            "client refunded": Decimal("120.00"),
            "freelancer paid in": Decimal("50.00"),
            "freelancer earned": Decimal("380.00"),
            "escrow": Decimal("0.00"),
            "platform fees": Decimal("100.00"),
        }
        call_command("check_ledger")
