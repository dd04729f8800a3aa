from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.services import AccountSuspended
from contracts import services as contract_services
from contracts.models import Contract, LedgerTransaction, Milestone
from core import deadlines
from core.errors import DeadlinePassed, IllegalTransition, InvalidInput, NotAllowed
from disputes import services
from disputes.models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent
from tests.kit import end_contract, file_dispute, make_milestone
from tests.kit import ledger_rows as ledger_count

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 6, 1, 8, 0, tzinfo=timezone.UTC)
PDF = b"%PDF-1.4\nevidence"


def start_draft(request, **overrides):
    fields = {"feedback_rating": 4, "feedback_comment": "Polite but silent on payment."}
    fields.update(overrides)
    return services.dispute_start(
        refund_request=request, actor=request.contract.freelancer, now=START, **fields
    )


@pytest.fixture
def request_300(contract):
    return end_contract(contract, paid="200.00", amount="500.00", now=START)


class TestContractEnd:
    def test_opens_one_request_per_milestone_with_money_left_and_cancels_unfunded_ones(
        self, contract
    ):
        paid_in_full = make_milestone(contract, amount="100.00", funded=True)
        partly = make_milestone(contract, amount="500.00", submitted=True)
        unfunded = make_milestone(contract, amount="50.00")

        requests = services.contract_end(
            contract=contract,
            actor=contract.client,
            payments={paid_in_full.pk: "100.00", partly.pk: "125.50"},
            now=START,
        )

        contract.refresh_from_db()
        statuses = dict(contract.milestones.values_list("pk", "status"))
        assert contract.status == Contract.Status.ENDED
        assert statuses == {
            paid_in_full.pk: Milestone.Status.RELEASED,
            partly.pk: Milestone.Status.HELD,
            unfunded.pk: Milestone.Status.CANCELLED,
        }
        assert [(r.milestone_id, r.amount) for r in requests] == [(partly.pk, Decimal("374.50"))]
        assert (
            Notification.objects.filter(user=contract.freelancer, kind="refund_requested").count()
            == 1
        )

    @pytest.mark.parametrize(
        ("paid", "code"),
        [
            ("-1.00", "invalid_amount"),
            ("500.01", "amount_above_escrow"),
            ("1.005", "invalid_amount"),
        ],
    )
    def test_refuses_a_bad_payment_and_changes_nothing(self, contract, paid, code):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        before = ledger_count()

        with pytest.raises(InvalidInput) as error:
            services.contract_end(
                contract=contract, actor=contract.client, payments={milestone.pk: paid}, now=START
            )

        contract.refresh_from_db()
        assert error.value.code == code
        assert list(error.value.fields) == [f"payments.{milestone.pk}"]
        assert contract.status == Contract.Status.ACTIVE
        assert ledger_count() == before
        assert RefundRequest.objects.count() == 0

    def test_refuses_a_milestone_of_another_contract(self, contract, client_user):
        other = contract_services.contract_create(
            client=client_user,
            freelancer=contract.freelancer,
            title="Other",
            currency="USD",
            now=START,
        )
        foreign = make_milestone(other, funded=True)

        with pytest.raises(InvalidInput) as error:
            services.contract_end(
                contract=contract, actor=client_user, payments={foreign.pk: "1.00"}, now=START
            )

        assert error.value.code == "invalid_milestone"

    def test_refuses_the_freelancer_and_an_ended_contract(self, contract):
        make_milestone(contract, funded=True)

        with pytest.raises(contract_services.NotTheClient):
            services.contract_end(
                contract=contract, actor=contract.freelancer, payments={}, now=START
            )
        services.contract_end(contract=contract, actor=contract.client, payments={}, now=START)
        with pytest.raises(IllegalTransition):
            services.contract_end(contract=contract, actor=contract.client, payments={}, now=START)

        assert RefundRequest.objects.count() == 1


class TestRefundRequestAccept:
    def test_refuses_the_client(self, contract, request_300):
        with pytest.raises(services.NotTheFreelancer):
            services.refund_request_accept(
                refund_request=request_300, actor=contract.client, now=START
            )

        assert ledger_count() == 2  # funding and the payment on ending

    def test_refuses_a_request_already_answered(self, contract, request_300):
        services.refund_request_accept(
            refund_request=request_300, actor=contract.freelancer, now=START
        )

        with pytest.raises(IllegalTransition):
            services.refund_request_accept(
                refund_request=request_300, actor=contract.freelancer, now=START
            )

        assert LedgerTransaction.objects.filter(kind="REFUND").count() == 1

    def test_refuses_a_suspended_freelancer(self, contract, request_300):
        contract.freelancer.suspended_at = START
        contract.freelancer.save()

        with pytest.raises(AccountSuspended):
            services.refund_request_accept(
                refund_request=request_300, actor=contract.freelancer, now=START
            )


class TestDisputeFiling:
    def test_the_draft_keeps_the_feedback_and_does_not_close_the_request(self, request_300):
        dispute = start_draft(request_300)

        request_300.refresh_from_db()
        assert dispute.status == Dispute.Status.DRAFT
        assert dispute.feedback_rating == 4
        assert request_300.status == RefundRequest.Status.OPEN

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"feedback_rating": 0}, "feedback_rating"),
            ({"feedback_rating": 6}, "feedback_rating"),
            ({"feedback_rating": "3.5"}, "feedback_rating"),
            ({"feedback_comment": "  "}, "feedback_comment"),
            ({"reason": "REVENGE"}, "reason"),
            ({"amount": "0"}, "amount"),
            ({"amount": "300.01"}, "amount"),
            ({"amount": "-1"}, "amount"),
            ({"amount": "10.123"}, "amount"),
        ],
    )
    def test_refuses_bad_fields(self, request_300, overrides, field):
        with pytest.raises(InvalidInput) as error:
            start_draft(request_300, **overrides)

        assert field in error.value.fields
        assert Dispute.objects.count() == 0

    def test_accepts_the_whole_refund_as_the_amount(self, request_300):
        dispute = start_draft(request_300, amount="300.00")

        assert dispute.amount == Decimal("300.00")

    def test_refuses_a_second_draft(self, request_300):
        start_draft(request_300)

        with pytest.raises(services.DisputeAlreadyStarted):
            start_draft(request_300)

    def test_refuses_the_client_filing(self, contract, request_300):
        with pytest.raises(services.NotTheFreelancer):
            services.dispute_start(
                refund_request=request_300,
                actor=contract.client,
                feedback_rating=5,
                feedback_comment="x",
                now=START,
            )

    def test_refuses_filing_after_the_deadline(self, request_300):
        with pytest.raises(DeadlinePassed):
            services.dispute_start(
                refund_request=request_300,
                actor=request_300.contract.freelancer,
                feedback_rating=3,
                feedback_comment="x",
                now=request_300.response_due_at,
            )

    def test_refuses_to_submit_an_incomplete_filing(self, request_300):
        dispute = start_draft(request_300)

        with pytest.raises(InvalidInput) as error:
            services.dispute_submit(
                dispute=dispute, actor=request_300.contract.freelancer, now=START
            )

        dispute.refresh_from_db()
        assert error.value.code == "incomplete"
        assert set(error.value.fields) == {"reason", "description", "amount"}
        assert dispute.status == Dispute.Status.DRAFT

    def test_a_submitted_filing_cannot_be_edited_or_given_evidence(self, request_300):
        dispute = file_dispute(request_300, now=START)
        freelancer = request_300.contract.freelancer

        with pytest.raises(services.FilingLocked):
            services.dispute_update(
                dispute=dispute, actor=freelancer, changes={"amount": "10.00"}, now=START
            )
        with pytest.raises(services.FilingLocked):
            services.evidence_add(
                dispute=dispute, actor=freelancer, file=SimpleUploadedFile("a.pdf", PDF), now=START
            )
        with pytest.raises(services.FilingLocked):
            services.dispute_submit(dispute=dispute, actor=freelancer, now=START)

        dispute.refresh_from_db()
        assert dispute.amount == Decimal("250.00")
        assert Evidence.objects.count() == 0

    def test_refuses_unknown_fields_in_an_update(self, request_300):
        dispute = start_draft(request_300)

        with pytest.raises(InvalidInput) as error:
            services.dispute_update(
                dispute=dispute,
                actor=request_300.contract.freelancer,
                changes={"status": "CLOSED"},
                now=START,
            )

        assert error.value.fields == {"status": ["This field cannot be changed."]}

    def test_submitting_stops_the_clock_and_starts_the_clients(self, request_300):
        dispute = file_dispute(request_300, now=START + timedelta(days=6, hours=23))

        request_300.refresh_from_db()
        assert request_300.status == RefundRequest.Status.DISPUTED
        assert dispute.response_due_at == START + timedelta(days=11, hours=23)
        assert Notification.objects.filter(
            user=request_300.contract.client, kind="dispute_filed"
        ).exists()


class TestEvidence:
    def test_draft_evidence_is_listed_with_its_hash_in_the_timeline_on_submit(self, request_300):
        dispute = file_dispute(
            request_300, now=START, evidence=[SimpleUploadedFile("brief.pdf", PDF)]
        )

        evidence = dispute.evidence.get()
        event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.EVIDENCE_ADDED)
        assert event.evidence == evidence
        assert evidence.sha256 in event.note
        assert evidence.file.name.startswith("evidence/")
        assert "brief" not in evidence.file.name

    def test_the_client_may_add_evidence_while_the_dispute_awaits_them(self, request_300):
        dispute = file_dispute(request_300, now=START)

        services.evidence_add(
            dispute=dispute,
            actor=request_300.contract.client,
            file=SimpleUploadedFile("log.txt", b"delivery log"),
            now=START,
        )

        assert dispute.evidence.get().uploaded_by == request_300.contract.client
        assert TimelineEvent.objects.filter(kind="EVIDENCE_ADDED").count() == 1

    def test_the_client_may_not_add_evidence_to_a_draft(self, request_300):
        dispute = start_draft(request_300)

        with pytest.raises(services.FilingLocked):
            services.evidence_add(
                dispute=dispute,
                actor=request_300.contract.client,
                file=SimpleUploadedFile("log.txt", b"x"),
                now=START,
            )

    def test_refuses_a_disguised_or_oversized_file_and_stores_nothing(self, request_300, settings):
        dispute = start_draft(request_300)
        settings.UPLOAD_MAX_BYTES = 100

        for upload in (
            SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00\x03"),
            SimpleUploadedFile("big.txt", b"a" * 101),
        ):
            with pytest.raises(InvalidInput), transaction.atomic():
                services.evidence_add(
                    dispute=dispute, actor=request_300.contract.freelancer, file=upload, now=START
                )

        assert Evidence.objects.count() == 0
        assert not (settings.PRIVATE_MEDIA_ROOT / "evidence").exists()

    def test_refuses_more_files_than_the_limit(self, request_300, settings):
        settings.UPLOAD_MAX_FILES = 1
        dispute = start_draft(request_300)
        freelancer = request_300.contract.freelancer
        services.evidence_add(
            dispute=dispute, actor=freelancer, file=SimpleUploadedFile("a.txt", b"a"), now=START
        )

        with pytest.raises(InvalidInput) as error:
            services.evidence_add(
                dispute=dispute,
                actor=freelancer,
                file=SimpleUploadedFile("b.txt", b"b"),
                now=START,
            )

        assert error.value.code == "too_many_files"


class TestClientAnswer:
    def test_refuses_the_freelancer_accepting_their_own_dispute(self, request_300):
        dispute = file_dispute(request_300, now=START)

        with pytest.raises(services.NotTheClient):
            services.dispute_accept(
                dispute=dispute, actor=request_300.contract.freelancer, now=START
            )

    @pytest.mark.parametrize("answer", ["accept", "decline"])
    def test_refuses_an_answer_at_the_deadline(self, request_300, answer):
        dispute = file_dispute(request_300, now=START)
        extra = {"reason": "No."} if answer == "decline" else {}

        with pytest.raises(DeadlinePassed):
            getattr(services, f"dispute_{answer}")(
                dispute=dispute,
                actor=request_300.contract.client,
                now=dispute.response_due_at,
                **extra,
            )

        dispute.refresh_from_db()
        # The late answer gets what the deadline gives: the client's silence decided.
        assert dispute.status == Dispute.Status.CLOSED
        assert dispute.outcome == Dispute.Outcome.CLIENT_SILENT

    def test_a_decline_needs_a_reason(self, request_300):
        dispute = file_dispute(request_300, now=START)

        with pytest.raises(InvalidInput) as error:
            services.dispute_decline(
                dispute=dispute, actor=request_300.contract.client, reason=" ", now=START
            )

        assert "reason" in error.value.fields

    def test_refuses_answering_twice(self, request_300):
        dispute = file_dispute(request_300, now=START)
        client = request_300.contract.client
        services.dispute_decline(dispute=dispute, actor=client, reason="Not delivered.", now=START)

        with pytest.raises(IllegalTransition):
            services.dispute_decline(dispute=dispute, actor=client, reason="Again.", now=START)
        with pytest.raises(Exception) as error:
            services.dispute_accept(dispute=dispute, actor=client, now=START)

        assert getattr(error.value, "status", None) == 409
        assert LedgerTransaction.objects.filter(kind="SETTLEMENT").count() == 0

    def test_refuses_answering_a_draft(self, request_300):
        dispute = start_draft(request_300, reason="QUALITY", description="d", amount="5.00")

        with pytest.raises(IllegalTransition):
            services.dispute_decline(
                dispute=dispute, actor=request_300.contract.client, reason="x", now=START
            )


class TestSupportCase:
    def test_the_freelancer_opens_one_with_evidence(self, contract):
        milestone = make_milestone(contract, submitted=True)

        case = services.support_case_open(
            milestone=milestone,
            actor=contract.freelancer,
            description="Delivered two weeks ago, no answer since.",
            files=[SimpleUploadedFile("proof.png", b"\x89PNG\r\n\x1a\n0000")],
            now=START,
        )

        assert case.status == SupportCase.Status.OPEN
        assert case.evidence.get().content_type == "image/png"

    def test_refuses_the_client_and_an_ended_contract(self, contract):
        milestone = make_milestone(contract, submitted=True)

        with pytest.raises(services.NotTheFreelancer):
            services.support_case_open(
                milestone=milestone, actor=contract.client, description="x", now=START
            )
        services.contract_end(contract=contract, actor=contract.client, payments={}, now=START)
        with pytest.raises(Exception) as error:
            services.support_case_open(
                milestone=milestone, actor=contract.freelancer, description="x", now=START
            )

        assert error.value.code == "not_active"
        assert SupportCase.objects.count() == 0


class TestEvidenceRemove:
    def test_takes_a_file_out_of_a_draft_and_off_the_disk(
        self, request_300, settings, django_capture_on_commit_callbacks
    ):
        dispute = start_draft(request_300)
        freelancer = request_300.contract.freelancer
        evidence = services.evidence_add(
            dispute=dispute, actor=freelancer, file=SimpleUploadedFile("a.txt", b"a"), now=START
        )
        path = settings.PRIVATE_MEDIA_ROOT / evidence.file.name

        with django_capture_on_commit_callbacks(execute=True):
            services.evidence_remove(evidence=evidence, actor=freelancer, now=START)

        assert Evidence.objects.count() == 0
        assert not path.exists()

    def test_refuses_once_the_filing_is_submitted_or_for_someone_else(self, request_300):
        dispute = start_draft(request_300, reason="QUALITY", description="d", amount="5.00")
        freelancer = request_300.contract.freelancer
        evidence = services.evidence_add(
            dispute=dispute, actor=freelancer, file=SimpleUploadedFile("a.txt", b"a"), now=START
        )

        with pytest.raises(NotAllowed):
            services.evidence_remove(
                evidence=evidence, actor=request_300.contract.client, now=START
            )
        services.dispute_submit(dispute=dispute, actor=freelancer, now=START)
        with pytest.raises(services.FilingLocked):
            services.evidence_remove(evidence=evidence, actor=freelancer, now=START)

        assert Evidence.objects.count() == 1


class TestLapsedDraft:
    def test_says_why_it_cannot_be_submitted(self, request_300):
        dispute = start_draft(request_300, reason="QUALITY", description="d", amount="5.00")
        deadlines.sweep(
            "disputes.refund_requests_expire", now=request_300.response_due_at, batch_size=10
        )

        with pytest.raises(services.FilingLocked) as error:
            services.dispute_submit(
                dispute=dispute, actor=request_300.contract.freelancer, now=START
            )

        assert error.value.code == "draft_lapsed"


def test_support_staff_are_told_of_a_new_case(contract):
    from accounts.models import Role
    from tests.kit import staff_member

    support = staff_member(Role.SUPPORT, "sue-support")
    milestone = make_milestone(contract, submitted=True)

    case = services.support_case_open(
        milestone=milestone, actor=contract.freelancer, description="No answer.", now=START
    )

    notice = Notification.objects.get(user=support, kind="support_case_opened")
    assert notice.url.endswith(f"/disputes/supportcase/{case.pk}/change/")
