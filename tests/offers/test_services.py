"""Settlement offers through their services: worked examples at each stage, fees, lapsing,
closing another way, and bad input that changes nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification
from arbitration import services as arbitration
from arbitration.models import ArbitrationCase, ArbitrationFee, EvidenceRequest
from contracts.models import LedgerTransaction
from core import deadlines
from core.errors import DeadlineSettled, DomainError, IllegalTransition, InvalidInput
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation.models import Resolution
from mediation.selectors import dispute_statistics
from offers import services as offers
from offers.models import Offer
from tests import kit
from tests.core.test_action_tables import snapshot
from webhooks.models import Event

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 11, 2, 9, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)
D = Decimal


def offer(dispute, by, *, to_freelancer="180.00", to_client="120.00", now=START, message=""):
    return offers.offer_make(
        dispute=dispute,
        actor=by,
        to_freelancer=to_freelancer,
        to_client=to_client,
        message=message,
        now=now,
    )


def at(stage, contract, agent=None, arbitrator=None):
    return kit.dispute_at(stage, contract, agent=agent, arbitrator=arbitrator, now=START)


def settled_books(contract, *, fees=False):
    return kit.books(contract, fees=fees)


# --- Worked examples ---------------------------------------------------------------------------


class TestAcceptingAtEachStage:
    """Client funds 500, pays 200 on ending, the freelancer disputes 250 of the 300 asked back;
    the freelancer offers 180 / 120 and the client accepts."""

    @pytest.mark.parametrize("stage", ["filed", "declined", "proposed"])
    def test_the_freelancer_receives_380_and_the_client_120_back_and_the_escrow_is_empty(
        self, contract, agent, stage, capsys
    ):
        dispute = at(stage, contract, agent)
        made = offer(dispute, contract.freelancer)
        before = kit.ledger_rows()

        offers.offer_accept(offer=made, actor=contract.client, now=START + timedelta(hours=1))

        dispute.refresh_from_db()
        made.refresh_from_db()
        assert dispute.status == Dispute.Status.CLOSED
        assert dispute.outcome == Dispute.Outcome.SETTLED
        assert (dispute.to_freelancer, dispute.to_client) == (D("180.00"), D("120.00"))
        assert made.status == Offer.Status.ACCEPTED
        assert made.answered_by_id == contract.client_id
        assert settled_books(contract) == {
            "client paid in": D("500.00"),
            "client refunded": D("120.00"),
            "freelancer earned": D("380.00"),
            "escrow": D("0.00"),
        }
        assert kit.ledger_rows() == before + 1
        call_command("check_ledger")
        assert "The ledger is consistent." in capsys.readouterr().out

    def test_a_proposed_resolution_is_superseded(self, contract, agent):
        dispute = at("proposed", contract, agent)
        made = offer(dispute, contract.client, to_freelancer="100.00", to_client="200.00")

        offers.offer_accept(offer=made, actor=contract.freelancer, now=START)

        resolution = Resolution.objects.get(dispute=dispute)
        assert resolution.status == Resolution.Status.SUPERSEDED
        assert kit.books(contract)["freelancer earned"] == D("300.00")

    def test_the_client_may_answer_with_a_counter_offer_that_the_freelancer_accepts(self, contract):
        dispute = at("filed", contract)
        first = offer(dispute, contract.freelancer, to_freelancer="250.00", to_client="50.00")
        counter = offer(dispute, contract.client, to_freelancer="150.00", to_client="150.00")

        offers.offer_accept(offer=counter, actor=contract.freelancer, now=START)

        first.refresh_from_db()
        assert first.status == Offer.Status.LAPSED  # the dispute closed another way for it
        assert kit.books(contract)["client refunded"] == D("150.00")
        call_command("check_ledger")


class TestFees:
    """R = 300; each party's arbitration fee is 50.00."""

    def test_settled_in_the_window_the_fee_the_freelancer_paid_is_refunded(
        self, contract, agent, arbitration_fee_of_50
    ):
        dispute = at("window", contract, agent)
        arbitration.arbitration_fee_pay(dispute=dispute, actor=contract.freelancer, now=START)
        made = offer(dispute, contract.client, to_freelancer="200.00", to_client="100.00")

        offers.offer_accept(offer=made, actor=contract.freelancer, now=START)

        fee = ArbitrationFee.objects.get(dispute=dispute)
        assert fee.status == ArbitrationFee.Status.REFUNDED
        assert fee.refund_id is not None
        assert kit.books(contract, fees=True) == {
            "client paid in": D("500.00"),
            "client refunded": D("100.00"),
            "freelancer earned": D("400.00"),
            "escrow": D("0.00"),
            "freelancer paid in": D("0.00"),
            "platform fees": D("0.00"),
        }
        note = TimelineEvent.objects.get(dispute=dispute, kind="OFFER_ACCEPTED").note
        assert "arbitration fee of 50.00 USD is refunded" in note
        call_command("check_ledger")

    def test_settled_once_the_case_is_open_the_fees_stay_and_the_case_closes_as_settled(
        self, contract, agent, arbitrator, arbitration_fee_of_50
    ):
        dispute = at("case", contract, agent, arbitrator)
        request = kit.evidence_request(dispute, arbitrator, now=START)
        made = offer(dispute, contract.freelancer, to_freelancer="150.00", to_client="150.00")

        offers.offer_accept(offer=made, actor=contract.client, now=START)

        assert ArbitrationCase.objects.get(dispute=dispute).status == "SETTLED"
        request.refresh_from_db()
        assert request.status == EvidenceRequest.Status.CLOSED
        assert set(ArbitrationFee.objects.values_list("status", flat=True)) == {"PAID"}
        assert kit.books(contract, fees=True) == {
            "client paid in": D("550.00"),
            "client refunded": D("150.00"),
            "freelancer earned": D("350.00"),
            "escrow": D("0.00"),
            "freelancer paid in": D("50.00"),
            "platform fees": D("100.00"),
        }
        call_command("check_ledger")


# --- Making offers -----------------------------------------------------------------------------


class TestOfferMake:
    def test_tells_the_other_party_and_puts_the_amounts_on_the_timeline(self, contract):
        dispute = at("filed", contract)

        made = offer(dispute, contract.freelancer, message="Let us end this.")

        assert made.status == Offer.Status.OPEN
        assert made.by == "freelancer"
        assert made.response_due_at == START + settings.OFFER_RESPONSE_PERIOD
        event = TimelineEvent.objects.get(dispute=dispute, kind="OFFER_MADE")
        assert event.actor_id == contract.freelancer_id
        assert event.amounts == {"to_freelancer": "180.00", "to_client": "120.00"}
        assert "Let us end this." in event.note
        told = Notification.objects.get(kind="offer_made")
        assert told.user_id == contract.client_id
        assert "180.00 USD to the freelancer" in told.body
        assert set(Event.objects.filter(type="offer.made").values_list("user_id", flat=True)) == {
            contract.client_id,
            contract.freelancer_id,
        }

    def test_a_new_offer_withdraws_the_makers_own_and_leaves_the_other_partys_open(self, contract):
        dispute = at("filed", contract)
        first = offer(dispute, contract.freelancer)
        theirs = offer(dispute, contract.client, to_freelancer="100.00", to_client="200.00")

        second = offer(dispute, contract.freelancer, to_freelancer="170.00", to_client="130.00")

        first.refresh_from_db()
        theirs.refresh_from_db()
        assert first.status == Offer.Status.WITHDRAWN
        assert theirs.status == Offer.Status.OPEN
        assert second.status == Offer.Status.OPEN
        assert Offer.objects.filter(dispute=dispute, status="OPEN").count() == 2

    def test_works_in_currencies_with_other_places(self, client_user, freelancer):
        contract = kit.ContractFactory(client=client_user, freelancer=freelancer, currency="JPY")
        request = kit.refund_request(contract, paid="200", amount="500", now=START)
        dispute = kit.draft(request, amount="250", now=START)
        disputes.dispute_submit(dispute=dispute, actor=freelancer, now=START)

        with pytest.raises(InvalidInput) as refused:
            offer(dispute, freelancer, to_freelancer="150.50", to_client="149.50")
        made = offer(dispute, freelancer, to_freelancer="151", to_client="149")

        assert refused.value.code == "invalid_amount"
        assert made.to_freelancer == D("151")


class TestBadInputChangesNothing:
    @pytest.fixture
    def dispute(self, contract):
        return at("filed", contract)

    def refused(self, call) -> DomainError:
        before = snapshot(), Offer.objects.count(), Event.objects.count()
        with pytest.raises(DomainError) as caught:
            call()
        assert (snapshot(), Offer.objects.count(), Event.objects.count()) == before
        return caught.value

    @pytest.mark.parametrize(
        "to_freelancer,to_client,code",
        [
            ("200.00", "200.00", "split_mismatch"),
            ("299.99", "0.00", "split_mismatch"),
            ("-10.00", "310.00", "invalid_amount"),
            ("150.001", "149.999", "invalid_amount"),
            ("abc", "300.00", "invalid_amount"),
        ],
    )
    def test_a_split_that_is_not_r_exactly(self, dispute, contract, to_freelancer, to_client, code):
        error = self.refused(
            lambda: offer(
                dispute, contract.client, to_freelancer=to_freelancer, to_client=to_client
            )
        )

        assert (error.status, error.code) == (400, code)

    def test_accepting_ones_own_offer(self, dispute, contract):
        made = offer(dispute, contract.freelancer)

        error = self.refused(
            lambda: offers.offer_accept(offer=made, actor=contract.freelancer, now=START)
        )

        assert (error.status, error.code) == (403, "own_offer")

    @pytest.mark.parametrize("answer", ["accept", "decline"])
    def test_answering_a_withdrawn_offer(self, dispute, contract, answer):
        made = offer(dispute, contract.freelancer)
        offers.offer_withdraw(offer=made, actor=contract.freelancer, now=START)

        error = self.refused(
            lambda: getattr(offers, f"offer_{answer}")(offer=made, actor=contract.client, now=START)
        )

        assert (error.status, error.code) == (409, "illegal_transition")
        assert "withdrawn" in error.message

    def test_answering_a_lapsed_offer(self, dispute, contract):
        made = offer(dispute, contract.freelancer)
        deadlines.sweep("offers.offers_lapse", now=made.response_due_at)

        error = self.refused(
            lambda: offers.offer_accept(offer=made, actor=contract.client, now=START)
        )

        assert error.code == "illegal_transition"

    def test_an_offer_after_the_dispute_closed(self, dispute, contract):
        disputes.dispute_accept(dispute=dispute, actor=contract.client, now=START)

        error = self.refused(lambda: offer(dispute, contract.freelancer))

        assert (error.status, error.code) == (409, "illegal_transition")

    def test_an_offer_on_a_draft(self, contract):
        request = kit.refund_request(contract, now=START)
        draft = kit.draft(request, now=START)

        error = self.refused(lambda: offer(draft, contract.freelancer))

        assert error.status == 409
        assert "submitted" in error.message

    def test_a_stranger_or_staff(self, dispute, contract, stranger, agent):
        made = offer(dispute, contract.freelancer)

        for person in (stranger, agent):
            assert self.refused(lambda p=person: offer(dispute, p)).status == 403
            error = self.refused(
                lambda p=person: offers.offer_accept(offer=made, actor=p, now=START)
            )
            assert error.status == 403

    def test_withdrawing_the_other_partys_offer(self, dispute, contract):
        made = offer(dispute, contract.freelancer)

        error = self.refused(
            lambda: offers.offer_withdraw(offer=made, actor=contract.client, now=START)
        )

        assert (error.status, error.code) == (403, "not_your_offer")

    def test_a_suspended_party(self, dispute, contract):
        kit.suspend(contract.client)

        error = self.refused(lambda: offer(dispute, kit.reload(contract.client)))

        assert error.code == "account_suspended"


# --- Answers -----------------------------------------------------------------------------------


class TestDeclineAndWithdraw:
    def test_a_decline_with_a_reason_tells_the_maker_and_the_dispute_goes_on(self, contract):
        dispute = at("filed", contract)
        made = offer(dispute, contract.client, to_freelancer="50.00", to_client="250.00")

        offers.offer_decline(offer=made, actor=contract.freelancer, reason="Too low.", now=START)

        made.refresh_from_db()
        dispute.refresh_from_db()
        assert (made.status, made.reason) == (Offer.Status.DECLINED, "Too low.")
        assert dispute.status == Dispute.Status.AWAITING_CLIENT
        told = Notification.objects.get(kind="offer_declined")
        assert told.user_id == contract.client_id
        assert "Too low." in told.body
        event = TimelineEvent.objects.get(dispute=dispute, kind="OFFER_DECLINED")
        assert event.actor_id == contract.freelancer_id

    def test_a_withdrawal_tells_the_other_party(self, contract):
        dispute = at("filed", contract)
        made = offer(dispute, contract.freelancer)

        offers.offer_withdraw(offer=made, actor=contract.freelancer, now=START)

        made.refresh_from_db()
        assert made.status == Offer.Status.WITHDRAWN
        assert Notification.objects.get(kind="offer_withdrawn").user_id == contract.client_id


# --- Lapsing -----------------------------------------------------------------------------------


class TestTheOfferDeadline:
    @pytest.fixture
    def made(self, contract):
        with time_machine.travel(START, tick=False):
            dispute = at("filed", contract)
            return offer(dispute, contract.freelancer, now=timezone.now())

    def test_one_microsecond_before_the_sweep_leaves_it_open_and_it_can_be_accepted(
        self, made, contract
    ):
        due = START + settings.OFFER_RESPONSE_PERIOD

        counts = deadlines.enforce_deadlines(now=due - MICROSECOND)
        offers.offer_accept(offer=made, actor=contract.client, now=due - MICROSECOND)

        assert counts["offers.offers_lapse"] == 0
        made.refresh_from_db()
        assert made.status == Offer.Status.ACCEPTED

    def test_at_the_deadline_the_sweep_lapses_it_and_tells_both(self, made, contract):
        due = START + settings.OFFER_RESPONSE_PERIOD

        counts = deadlines.enforce_deadlines(now=due)

        made.refresh_from_db()
        assert counts["offers.offers_lapse"] == 1
        assert made.status == Offer.Status.LAPSED
        assert set(
            Notification.objects.filter(kind="offer_lapsed").values_list("user_id", flat=True)
        ) == {contract.client_id, contract.freelancer_id}
        assert Event.objects.filter(type="offer.lapsed").count() == 2
        assert made.dispute.timeline.filter(kind="OFFER_LAPSED").count() == 1
        assert deadlines.enforce_deadlines(now=due + timedelta(days=9))["offers.offers_lapse"] == 0

    def test_at_the_deadline_a_late_accept_is_refused_and_the_offer_lapses_anyway(
        self, made, contract
    ):
        due = START + settings.OFFER_RESPONSE_PERIOD
        before = kit.ledger_rows()

        with pytest.raises(DeadlineSettled) as late:
            offers.offer_accept(offer=made, actor=contract.client, now=due)

        made.refresh_from_db()
        made.dispute.refresh_from_db()
        assert late.value.code == "deadline_passed"
        assert made.status == Offer.Status.LAPSED
        assert made.dispute.status == Dispute.Status.AWAITING_CLIENT
        assert kit.ledger_rows() == before

    def test_the_24_hour_reminder_goes_to_the_other_party(self, made, contract):
        due = START + settings.OFFER_RESPONSE_PERIOD

        deadlines.enforce_deadlines(now=due - timedelta(hours=24))

        reminded = Notification.objects.filter(
            kind="deadline_reminder", title__contains="settlement offer"
        )
        assert list(reminded.values_list("user_id", flat=True)) == [contract.client_id]


class TestClosingAnotherWayLapsesTheOpenOffers:
    def test_the_client_accepts_the_dispute(self, contract):
        dispute = at("filed", contract)
        mine, theirs = offer(dispute, contract.freelancer), offer(dispute, contract.client)

        disputes.dispute_accept(dispute=dispute, actor=contract.client, now=START)

        assert set(Offer.objects.values_list("status", flat=True)) == {"LAPSED"}
        assert {mine.pk, theirs.pk} == set(Offer.objects.values_list("pk", flat=True))
        assert dispute.timeline.filter(kind="OFFER_LAPSED").count() == 2

    def test_the_client_stays_silent_and_the_sweep_closes_it(self, contract):
        dispute = at("filed", contract)
        made = offer(dispute, contract.freelancer)

        deadlines.enforce_deadlines(now=dispute.response_due_at)

        made.refresh_from_db()
        assert made.status == Offer.Status.LAPSED

    def test_a_late_accept_after_the_clients_deadline_gets_the_deadlines_outcome(self, contract):
        dispute = at("filed", contract)
        made = offer(dispute, contract.client, to_freelancer="10.00", to_client="290.00")

        with pytest.raises(DeadlineSettled):
            offers.offer_accept(offer=made, actor=contract.freelancer, now=dispute.response_due_at)

        dispute.refresh_from_db()
        made.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT
        assert made.status == Offer.Status.LAPSED
        assert kit.books(contract)["freelancer earned"] == D("450.00")

    def test_an_award(self, contract, agent, arbitrator):
        dispute = at("case", contract, agent, arbitrator)
        made = offer(dispute, contract.freelancer)

        arbitration.award_issue(
            dispute=dispute,
            arbitrator=arbitrator,
            to_freelancer="100.00",
            to_client="200.00",
            reasons="A third was delivered.",
            now=START,
        )

        made.refresh_from_db()
        assert made.status == Offer.Status.LAPSED
        with pytest.raises(IllegalTransition):
            offers.offer_accept(offer=made, actor=contract.client, now=START)


class TestStatistics:
    def test_count_the_settled_outcome(self, contract):
        dispute = at("filed", contract)
        offers.offer_accept(
            offer=offer(dispute, contract.freelancer), actor=contract.client, now=START
        )

        stats = dispute_statistics(service_level=settings.MEDIATION_SERVICE_LEVEL)

        assert dict(stats.by_outcome)[Dispute.Outcome.SETTLED.label] == 1


def test_a_settlement_is_one_ledger_transaction_of_the_escrow(contract):
    dispute = at("filed", contract)
    before = set(LedgerTransaction.objects.values_list("pk", flat=True))

    offers.offer_accept(offer=offer(dispute, contract.freelancer), actor=contract.client, now=START)

    (settlement,) = LedgerTransaction.objects.exclude(pk__in=before)
    assert settlement.milestone_id == dispute.milestone_id


def test_a_late_decline_after_the_clients_deadline_gets_the_deadlines_outcome(contract, settings):
    settings.OFFER_RESPONSE_PERIOD = timedelta(days=10)
    dispute = at("filed", contract)
    made = offer(dispute, contract.freelancer)

    with pytest.raises(DeadlineSettled):
        offers.offer_decline(offer=made, actor=contract.client, now=dispute.response_due_at)

    dispute.refresh_from_db()
    made.refresh_from_db()
    assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT
    assert made.status == Offer.Status.LAPSED
