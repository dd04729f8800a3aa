from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Notification, Role
from accounts.services import AccountSuspended, user_suspend
from arbitration import services
from arbitration.models import ArbitrationCase, ArbitrationFee, Award, EvidenceRequest
from contracts.models import LedgerTransaction
from core import deadlines
from core.errors import DeadlinePassed, InvalidInput, NotAllowed
from disputes import services as disputes
from disputes.models import Dispute, Evidence
from mediation import services as mediation
from tests import kit
from tests.kit import end_contract, file_dispute, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("arbitration_fee_of_50")]

START = timezone.datetime(2026, 10, 12, 9, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def window(contract, agent):
    """A dispute whose resolution the client rejected: the arbitration window is open."""
    return kit.window(contract, agent, now=START)


@pytest.fixture
def case(contract, window):
    for party in (contract.freelancer, contract.client):
        services.arbitration_fee_pay(dispute=window, actor=party, now=START)
    window.refresh_from_db()
    return window


def award(dispute, arbitrator, to_freelancer="180.00", to_client="120.00", reasons="Scope met."):
    return services.award_issue(
        dispute=dispute,
        arbitrator=arbitrator,
        to_freelancer=to_freelancer,
        to_client=to_client,
        reasons=reasons,
        now=START + timedelta(days=1),
    )


class TestFee:
    def test_is_a_ledger_transaction_into_the_platform_fee_account(self, contract, window):
        fee = services.arbitration_fee_pay(dispute=window, actor=contract.client, now=START)

        legs = sorted(
            (e.account.kind, e.amount) for e in fee.payment.entries.select_related("account")
        )
        assert fee.amount == Decimal("50.00")
        assert legs == [("FUNDING", Decimal("-50.00")), ("PLATFORM_FEES", Decimal("50.00"))]
        assert Notification.objects.filter(
            user=contract.freelancer, kind="arbitration_fee_paid"
        ).exists()

    def test_scales_with_the_disputed_amount_when_configured(self, settings):
        settings.ARBITRATION_FEE_FIXED = "10.00"
        settings.ARBITRATION_FEE_PERCENT = "2.5"

        assert services.arbitration_fee(amount=Decimal("300.00"), currency="USD") == Decimal(
            "17.50"
        )

    def test_refuses_paying_twice(self, contract, window):
        services.arbitration_fee_pay(dispute=window, actor=contract.client, now=START)

        with pytest.raises(services.FeeAlreadyPaid):
            services.arbitration_fee_pay(dispute=window, actor=contract.client, now=START)

        assert LedgerTransaction.objects.filter(kind="FEE").count() == 1

    def test_refuses_paying_at_the_end_of_the_window(self, contract, window):
        with pytest.raises(DeadlinePassed):
            services.arbitration_fee_pay(
                dispute=window, actor=contract.client, now=window.response_due_at
            )

        assert ArbitrationFee.objects.count() == 0

    def test_refuses_a_stranger_and_a_suspended_party(self, contract, window, stranger):
        with pytest.raises(NotAllowed):
            services.arbitration_fee_pay(dispute=window, actor=stranger, now=START)
        contract.client.suspended_at = START
        contract.client.save()
        with pytest.raises(AccountSuspended):
            services.arbitration_fee_pay(dispute=window, actor=contract.client, now=START)

        assert ArbitrationFee.objects.count() == 0

    def test_the_second_payment_opens_the_case(self, case):
        assert case.status == Dispute.Status.IN_ARBITRATION
        assert ArbitrationCase.objects.get(dispute=case).status == ArbitrationCase.Status.OPEN

    def test_the_window_closes_exactly_at_its_deadline(self, window):
        deadlines.enforce_deadlines(now=window.response_due_at - MICROSECOND)
        window.refresh_from_db()
        still_open = window.status

        deadlines.enforce_deadlines(now=window.response_due_at)

        window.refresh_from_db()
        assert still_open == Dispute.Status.ARBITRATION_WINDOW
        assert window.status == Dispute.Status.CLOSED
        assert window.response_due_at == START + timedelta(days=7)

    def test_both_parties_are_reminded_before_the_window_closes(self, contract, window):
        services.arbitration_fee_pay(dispute=window, actor=contract.freelancer, now=START)

        for hours in (49, 48, 24):
            deadlines.enforce_deadlines(now=window.response_due_at - timedelta(hours=hours))

        titles = Notification.objects.filter(kind="deadline_reminder").values_list(
            "user__username", "title"
        )
        assert sorted(titles) == [
            (contract.client.username, "24 hours left to agree to arbitration"),
            (contract.client.username, "48 hours left to agree to arbitration"),
        ]


class TestEvidenceRequest:
    def test_lets_the_party_upload_until_its_due_date(self, contract, case, arbitrator):
        request = services.evidence_request_create(
            dispute=case,
            arbitrator=arbitrator,
            party="client",
            message="Send the chat log.",
            due_at=START + timedelta(days=3),
            now=START,
        )

        evidence = disputes.evidence_add(
            dispute=case,
            actor=contract.client,
            file=SimpleUploadedFile("chat.txt", b"log"),
            now=START + timedelta(days=1),
        )
        with pytest.raises(disputes.FilingLocked):
            disputes.evidence_add(
                dispute=case,
                actor=contract.freelancer,
                file=SimpleUploadedFile("x.txt", b"x"),
                now=START + timedelta(days=1),
            )
        deadlines.enforce_deadlines(now=request.due_at)
        with pytest.raises(disputes.FilingLocked):
            disputes.evidence_add(
                dispute=case,
                actor=contract.client,
                file=SimpleUploadedFile("late.txt", b"late"),
                now=request.due_at,
            )

        request.refresh_from_db()
        assert evidence.dispute == case
        assert request.status == EvidenceRequest.Status.CLOSED
        assert Evidence.objects.filter(dispute=case).count() == 1
        assert case.timeline.filter(kind="EVIDENCE_REQUEST_CLOSED").count() == 1

    def test_is_refused_to_anyone_but_an_arbitrator(self, contract, case, agent):
        for user in (contract.client, agent):
            with pytest.raises(services.NotAnArbitrator):
                services.evidence_request_create(
                    dispute=case,
                    arbitrator=user,
                    party="client",
                    message="x",
                    due_at=START + timedelta(days=1),
                    now=START,
                )

    def test_an_agent_extends_its_due_date(self, contract, case, arbitrator, agent):
        request = services.evidence_request_create(
            dispute=case,
            arbitrator=arbitrator,
            party="freelancer",
            message="Source files.",
            due_at=START + timedelta(days=2),
            now=START,
        )

        disputes.dispute_extend(
            dispute=case,
            actor=agent,
            due_at=START + timedelta(days=4),
            reason="Files are large.",
            now=START,
        )

        request.refresh_from_db()
        case.refresh_from_db()
        assert request.due_at == START + timedelta(days=4)
        assert case.response_due_at is None


class TestAward:
    def test_moves_the_money_and_closes_the_case_for_good(self, contract, case, arbitrator):
        result = award(case, arbitrator)

        case.refresh_from_db()
        assert result.to_freelancer == Decimal("180.00")
        assert case.outcome == Dispute.Outcome.AWARDED
        assert ArbitrationCase.objects.get(dispute=case).status == ArbitrationCase.Status.AWARDED
        with pytest.raises(ValueError):
            result.save()

    def test_refuses_a_second_award(self, case, arbitrator):
        award(case, arbitrator)

        with pytest.raises(services.CaseNotOpen):
            award(case, arbitrator, "0", "300.00")

        assert Award.objects.count() == 1

    def test_refuses_an_award_on_a_case_that_is_not_open(self, window, arbitrator):
        with pytest.raises(services.CaseNotOpen):
            award(window, arbitrator)

    @pytest.mark.parametrize(
        ("to_freelancer", "to_client", "reasons"),
        [("200.00", "200.00", "r"), ("-1.00", "301.00", "r"), ("150.00", "150.00", " ")],
    )
    def test_refuses_a_bad_split_or_missing_reasons(
        self, case, arbitrator, to_freelancer, to_client, reasons
    ):
        with pytest.raises(InvalidInput):
            award(case, arbitrator, to_freelancer, to_client, reasons)

        assert Award.objects.count() == 0

    def test_only_arbitrators_award(self, contract, case, agent):
        for user in (agent, contract.freelancer):
            with pytest.raises(services.NotAnArbitrator):
                award(case, user)


class TestSuspension:
    def test_a_suspended_party_can_take_no_action(self, contract, window, arbitrator):
        staff = staff_member(Role.SUPPORT, "sue-support")

        user_suspend(user=contract.client, actor=staff, reason="Ignored the award.", now=START)
        contract.client.refresh_from_db()

        with pytest.raises(AccountSuspended):
            services.arbitration_fee_pay(dispute=window, actor=contract.client, now=START)
        assert contract.client.is_suspended
        assert Notification.objects.filter(user=contract.client, kind="account_suspended").exists()

    def test_only_staff_suspend(self, contract):
        with pytest.raises(NotAllowed):
            user_suspend(user=contract.client, actor=contract.freelancer, reason="x", now=START)


class TestEvidenceLimit:
    def test_files_of_the_filing_leave_room_for_an_arbitrators_request(
        self, contract, agent, arbitrator, settings
    ):
        settings.UPLOAD_MAX_FILES = 1

        dispute = file_dispute(
            end_contract(contract, now=START),
            now=START,
            evidence=[SimpleUploadedFile("filing.txt", b"filing")],
        )
        later = START + timedelta(hours=1)
        disputes.dispute_decline(dispute=dispute, actor=contract.client, reason="No.", now=later)
        mediation.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=later,
        )
        mediation.resolution_answer(dispute=dispute, actor=contract.client, accept=False, now=later)
        for party in (contract.freelancer, contract.client):
            services.arbitration_fee_pay(dispute=dispute, actor=party, now=later)
        services.evidence_request_create(
            dispute=dispute,
            arbitrator=arbitrator,
            party="freelancer",
            message="More.",
            due_at=START + timedelta(days=2),
            now=START + timedelta(hours=1),
        )

        evidence = disputes.evidence_add(
            dispute=dispute,
            actor=contract.freelancer,
            file=SimpleUploadedFile("more.txt", b"more"),
            now=START + timedelta(hours=2),
        )

        assert Evidence.objects.filter(uploaded_by=contract.freelancer).count() == 2
        assert evidence.name == "more.txt"
