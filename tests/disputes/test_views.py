"""Browser pages for ending a contract, refund requests, disputes, evidence and support cases.

Each story starts from the seed's numbers: the client funds 500, ends the contract paying 200, so
R = 300 is asked back; a filed dispute asks to review D = 250.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract, LedgerTransaction, Milestone
from core import deadlines
from disputes import services
from disputes.models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent
from tests.kit import (
    DISGUISED_EXE,
    NOT_ALLOWED,
    PDF_BYTES,
    ContractFactory,
    browser_for,
    end_contract,
    file_dispute,
    make_milestone,
    reload,
    shown_messages,
    support,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]

COMMENT = "Stopped answering after the second delivery."


def upload(name: str = "proof.pdf", content: bytes = PDF_BYTES, content_type="application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def stored_evidence_files(settings) -> list:
    folder = settings.PRIVATE_MEDIA_ROOT / "evidence"
    return list(folder.iterdir()) if folder.exists() else []


def start_draft(refund: RefundRequest, **fields) -> Dispute:
    fields.setdefault("feedback_rating", 2)
    fields.setdefault("feedback_comment", COMMENT)
    return services.dispute_start(
        refund_request=refund, actor=refund.contract.freelancer, now=timezone.now(), **fields
    )


def client_evidence(dispute: Dispute, name: str = "brief.pdf") -> Evidence:
    return services.evidence_add(
        dispute=dispute,
        actor=dispute.refund_request.contract.client,
        file=upload(name),
        now=timezone.now(),
    )


@pytest.fixture
def refund(contract) -> RefundRequest:
    """E = 500, P = 200: R = 300 asked back."""
    return end_contract(contract, paid="200.00", amount="500.00")


@pytest.fixture
def draft(refund) -> Dispute:
    return start_draft(refund)


@pytest.fixture
def dispute(refund) -> Dispute:
    """A submitted dispute of D = 250 with one file, waiting for the client."""
    return file_dispute(refund, amount="250.00", evidence=[upload("delivery.pdf")])


# --- Ending a contract --------------------------------------------------------------------------


class TestEndContractPage:
    def test_lists_each_milestone_in_escrow_with_an_amount_to_pay(self, contract, client_user):
        funded = make_milestone(contract, title="Design", amount="500.00", funded=True)
        submitted = make_milestone(contract, title="Build", amount="300.00", submitted=True)
        make_milestone(contract, title="Docs")

        url = reverse("disputes:contract-end", args=[contract.pk])

        response = browser_for(client_user).get(url)

        html = response.content.decode()
        assert response.status_code == 200
        form = response.context["form"]
        assert set(form.fields) == {f"payment_{funded.pk}", f"payment_{submitted.pk}"}
        assert "0 ≤ P ≤ 500.00 escrowed; what you don't pay is asked back as a refund" in html
        assert "which the freelancer can accept or dispute within 7 days" in html
        assert "cancelled when the contract ends" in html and "“Docs”" in html

    def test_sends_the_freelancer_back_with_a_message(self, contract, freelancer):
        response = browser_for(freelancer).get(
            reverse("disputes:contract-end", args=[contract.pk]), follow=True
        )

        assert response.redirect_chain[-1][0] == contract.get_absolute_url()
        assert shown_messages(response) == ["Only the contract's client can take this action."]

    def test_is_404_for_a_stranger(self, contract, stranger):
        url = reverse("disputes:contract-end", args=[contract.pk])

        assert browser_for(stranger).get(url).status_code == 404
        assert browser_for(stranger).post(url).status_code == 404
        assert reload(contract).status == Contract.Status.ACTIVE


class TestEndContractAction:
    def test_pays_p_opens_the_refund_request_and_links_to_it(self, contract, client_user):
        milestone = make_milestone(contract, title="Design", amount="500.00", funded=True)

        response = browser_for(client_user).post(
            reverse("disputes:contract-end", args=[contract.pk]),
            {f"payment_{milestone.pk}": "200.00"},
            follow=True,
        )

        refund = RefundRequest.objects.get()
        assert (refund.escrowed, refund.paid, refund.amount) == (
            Decimal("500.00"),
            Decimal("200.00"),
            Decimal("300.00"),
        )
        assert reload(contract).status == Contract.Status.ENDED
        assert response.redirect_chain[-1][0] == contract.get_absolute_url()
        [message] = shown_messages(response)
        assert message.startswith(
            f"Contract “{contract.title}” ended. 300.00 USD of “Design” is asked back as a "
            "refund: frank-freelancer has until "
        )
        assert message.endswith(
            f'to accept it or file a dispute. <a href="{refund.get_absolute_url()}">See Request</a>'
        )
        assert f'<a href="{refund.get_absolute_url()}">See Request</a>' in response.content.decode()

    def test_an_empty_amount_pays_nothing_and_asks_everything_back(self, contract, client_user):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        browser_for(client_user).post(
            reverse("disputes:contract-end", args=[contract.pk]), {f"payment_{milestone.pk}": ""}
        )

        refund = RefundRequest.objects.get()
        assert (refund.paid, refund.amount) == (Decimal("0.00"), Decimal("500.00"))

    def test_paying_everything_opens_no_refund_request(self, contract, client_user):
        milestone = make_milestone(contract, title="Design", amount="500.00", funded=True)

        response = browser_for(client_user).post(
            reverse("disputes:contract-end", args=[contract.pk]),
            {f"payment_{milestone.pk}": "500.00"},
            follow=True,
        )

        assert RefundRequest.objects.count() == 0
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert shown_messages(response) == [
            f"Contract “{contract.title}” ended. Nothing was left in escrow, so there is no "
            "refund request."
        ]

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("500.01", "Only 500.00 USD is held in escrow for “Design”."),
            ("1.001", "USD amounts have at most 2 decimal places."),
            ("-1", "The amount cannot be negative."),
            ("lots", "Enter an amount such as 250.00."),
        ],
    )
    def test_shows_a_bad_amount_on_its_field_and_changes_nothing(
        self, contract, client_user, amount, error
    ):
        milestone = make_milestone(contract, title="Design", amount="500.00", funded=True)
        transactions = LedgerTransaction.objects.count()

        response = browser_for(client_user).post(
            reverse("disputes:contract-end", args=[contract.pk]),
            {f"payment_{milestone.pk}": amount},
        )

        assert response.status_code == 400
        assert response.context["form"].errors[f"payment_{milestone.pk}"] == [error]
        assert shown_messages(response) == []
        assert response.content.decode().count(error) == 1
        assert reload(contract).status == Contract.Status.ACTIVE
        assert RefundRequest.objects.count() == 0
        assert LedgerTransaction.objects.count() == transactions

    def test_refuses_the_freelancer(self, contract, freelancer):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(freelancer).post(
            reverse("disputes:contract-end", args=[contract.pk]),
            {f"payment_{milestone.pk}": "0"},
            follow=True,
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert reload(contract).status == Contract.Status.ACTIVE

    def test_refuses_to_end_a_contract_twice(self, contract, client_user, refund):
        response = browser_for(client_user).post(
            reverse("disputes:contract-end", args=[contract.pk]), {}, follow=True
        )

        assert shown_messages(response) == ["This contract is ended; it cannot become ended."]
        assert RefundRequest.objects.count() == 1


# --- See Request ----------------------------------------------------------------------------------


class TestRefundRequestPage:
    def test_shows_the_freelancer_the_amounts_deadline_and_both_answers(self, refund, freelancer):
        response = browser_for(freelancer).get(refund.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "500.00 USD" in html and "200.00 USD" in html and "300.00 USD" in html
        assert "Waiting for the freelancer" in html
        assert "data-countdown" in html and 'role="progressbar"' in html
        assert reverse("disputes:refund-request-accept", args=[refund.pk]) in html
        assert reverse("disputes:dispute-feedback", args=[refund.pk]) in html
        assert "Contract ended; refund requested" in html  # the timeline
        assert response.context["deadline"].due_at == refund.response_due_at

    def test_shows_the_client_the_request_without_the_freelancers_answers(
        self, refund, client_user
    ):
        response = browser_for(client_user).get(refund.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "/accept/" not in html
        assert reverse("disputes:dispute-feedback", args=[refund.pk]) not in html
        assert "comes back to you automatically" in html

    def test_offers_to_continue_a_draft_and_says_the_clock_still_runs(self, draft, freelancer):
        response = browser_for(freelancer).get(draft.refund_request.get_absolute_url())

        html = response.content.decode()
        assert "Continue your draft dispute" in html
        assert reverse("disputes:dispute-details", args=[draft.pk]) in html
        assert "A draft does not stop the clock" in html

    def test_hides_a_draft_from_the_client(self, draft, client_user):
        response = browser_for(client_user).get(draft.refund_request.get_absolute_url())

        assert response.context["dispute"] is None
        assert draft.get_absolute_url().encode() not in response.content

    def test_is_readable_by_staff(self, refund, staff):
        response = browser_for(staff).get(refund.get_absolute_url())

        assert response.status_code == 200
        assert response.context["can_answer"] is False

    def test_is_404_for_a_stranger(self, refund, stranger):
        assert browser_for(stranger).get(refund.get_absolute_url()).status_code == 404


class TestRefundRequestAccept:
    def test_refunds_the_client_and_says_so(self, refund, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:refund-request-accept", args=[refund.pk]), follow=True
        )

        assert reload(refund).status == RefundRequest.Status.ACCEPTED
        assert reload(refund.milestone).status == Milestone.Status.REFUNDED
        assert response.redirect_chain[-1][0] == refund.get_absolute_url()
        assert shown_messages(response) == [
            "You accepted the refund: 300.00 USD went back to carol-client."
        ]
        assert b"Refund accepted by the freelancer" in response.content

    def test_refuses_the_client(self, refund, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:refund-request-accept", args=[refund.pk]), follow=True
        )

        assert shown_messages(response) == ["Only the contract's freelancer can take this action."]
        assert reload(refund).status == RefundRequest.Status.OPEN

    def test_refuses_a_request_already_answered(self, refund, freelancer):
        services.refund_request_accept(refund_request=refund, actor=freelancer, now=timezone.now())
        transactions = LedgerTransaction.objects.count()

        response = browser_for(freelancer).post(
            reverse("disputes:refund-request-accept", args=[refund.pk]), follow=True
        )

        assert shown_messages(response) == [
            "This refund request is accepted; it cannot become accepted."
        ]
        assert LedgerTransaction.objects.count() == transactions

    def test_refuses_once_the_deadline_has_passed(self, refund, freelancer):
        with time_machine.travel(refund.response_due_at, tick=False):
            response = browser_for(freelancer).post(
                reverse("disputes:refund-request-accept", args=[refund.pk]), follow=True
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to answer this refund request passed on ")
        # What the deadline gives, even before the sweep: the refund.
        assert reload(refund).status == RefundRequest.Status.EXPIRED

    def test_accepts_the_instant_before_the_deadline(self, refund, freelancer):
        with time_machine.travel(refund.response_due_at - timedelta(seconds=1), tick=False):
            browser_for(freelancer).post(
                reverse("disputes:refund-request-accept", args=[refund.pk])
            )

        assert reload(refund).status == RefundRequest.Status.ACCEPTED

    def test_is_404_for_a_stranger(self, refund, stranger):
        response = browser_for(stranger).post(
            reverse("disputes:refund-request-accept", args=[refund.pk])
        )

        assert response.status_code == 404
        assert reload(refund).status == RefundRequest.Status.OPEN


# --- The guided dispute form ----------------------------------------------------------------------


class TestFeedbackStep:
    def test_asks_for_a_rating_and_a_comment_hidden_from_the_client(self, refund, freelancer):
        response = browser_for(freelancer).get(
            reverse("disputes:dispute-feedback", args=[refund.pk])
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert html.count('type="radio" name="feedback_rating"') == 5
        assert '<label for="id_feedback_comment"' in html
        assert "stay hidden from carol-client until the dispute closes" in html
        assert "A draft does not stop the 7-day clock." in html
        assert 'aria-current="step"' in html

    def test_starts_a_draft_and_goes_on_to_the_details(self, refund, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-feedback", args=[refund.pk]),
            {"feedback_rating": "2", "feedback_comment": COMMENT},
            follow=True,
        )

        dispute = Dispute.objects.get()
        assert (dispute.status, dispute.feedback_rating, dispute.feedback_comment) == (
            Dispute.Status.DRAFT,
            2,
            COMMENT,
        )
        assert response.redirect_chain[-1][0] == reverse(
            "disputes:dispute-details", args=[dispute.pk]
        )
        assert shown_messages(response) == [
            "Your feedback is saved in a draft dispute. Next, the details and your evidence."
        ]
        assert reload(refund).status == RefundRequest.Status.OPEN  # the clock still runs

    def test_updates_the_feedback_of_an_existing_draft(self, draft, freelancer):
        browser = browser_for(freelancer)
        url = reverse("disputes:dispute-feedback", args=[draft.refund_request_id])

        form = browser.get(url).context["form"]
        browser.post(url, {"feedback_rating": "4", "feedback_comment": "Better after all."})

        assert form.initial == {"feedback_rating": "2", "feedback_comment": COMMENT}
        draft = reload(draft)
        assert (draft.feedback_rating, draft.feedback_comment) == (4, "Better after all.")
        assert Dispute.objects.count() == 1

    @pytest.mark.parametrize(
        ("data", "field", "error"),
        [
            ({"feedback_comment": COMMENT}, "feedback_rating", "Rate the client from 1 to 5."),
            (
                {"feedback_rating": "6", "feedback_comment": COMMENT},
                "feedback_rating",
                "Select a valid choice. 6 is not one of the available choices.",
            ),
            (
                {"feedback_rating": "3", "feedback_comment": "  "},
                "feedback_comment",
                "A comment on the client is required.",
            ),
        ],
    )
    def test_requires_both_rating_and_comment(self, refund, freelancer, data, field, error):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-feedback", args=[refund.pk]), data
        )

        assert response.status_code == 400
        assert response.context["form"].errors[field] == [error]
        assert Dispute.objects.count() == 0

    def test_refuses_the_client(self, refund, client_user):
        url = reverse("disputes:dispute-feedback", args=[refund.pk])

        page = browser_for(client_user).get(url, follow=True)
        response = browser_for(client_user).post(
            url, {"feedback_rating": "5", "feedback_comment": "Great!"}, follow=True
        )

        assert shown_messages(page) == ["Only the contract's freelancer can take this action."]
        assert shown_messages(response) == ["Only the contract's freelancer can take this action."]
        assert Dispute.objects.count() == 0

    def test_refuses_once_the_deadline_has_passed(self, refund, freelancer):
        with time_machine.travel(refund.response_due_at, tick=False):
            response = browser_for(freelancer).post(
                reverse("disputes:dispute-feedback", args=[refund.pk]),
                {"feedback_rating": "2", "feedback_comment": COMMENT},
                follow=True,
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to dispute this refund request passed on ")
        assert Dispute.objects.count() == 0

    def test_refuses_a_request_already_accepted(self, refund, freelancer):
        services.refund_request_accept(refund_request=refund, actor=freelancer, now=timezone.now())
        url = reverse("disputes:dispute-feedback", args=[refund.pk])

        page = browser_for(freelancer).get(url, follow=True)

        assert shown_messages(page) == [
            "This refund request is closed (accepted by the freelancer); it can no longer be "
            "disputed."
        ]
        assert page.redirect_chain[-1][0] == refund.get_absolute_url()

    def test_is_404_for_a_stranger(self, refund, stranger):
        url = reverse("disputes:dispute-feedback", args=[refund.pk])

        assert browser_for(stranger).get(url).status_code == 404
        assert browser_for(stranger).post(url, {"feedback_rating": "1"}).status_code == 404


class TestDetailsStep:
    def test_offers_the_reasons_and_says_which_files_are_accepted(self, draft, freelancer):
        response = browser_for(freelancer).get(reverse("disputes:dispute-details", args=[draft.pk]))

        html = response.content.decode()
        form = response.context["form"]
        assert [value for value, _ in form.fields["reason"].choices][1:] == Dispute.Reason.values
        assert "PDF, PNG, JPEG, plain text or ZIP; each file up to 10 MB, at most 20 files" in html
        assert 'enctype="multipart/form-data"' in html
        assert "Save draft" in html and "Continue" in html

    def test_saves_the_draft_with_its_files_and_stays_on_the_step(
        self, draft, freelancer, settings
    ):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {
                "reason": "NON_PAYMENT",
                "description": "Five pages agreed, five delivered.",
                "files": [upload("delivery.pdf"), upload("notes.txt", b"notes\n", "text/plain")],
                "action": "save",
            },
            follow=True,
        )

        draft = reload(draft)
        assert draft.reason == "NON_PAYMENT"
        assert draft.description == "Five pages agreed, five delivered."
        assert sorted(draft.evidence.values_list("name", "content_type")) == [
            ("delivery.pdf", "application/pdf"),
            ("notes.txt", "text/plain"),
        ]
        assert len(stored_evidence_files(settings)) == 2
        assert response.redirect_chain[-1][0] == reverse(
            "disputes:dispute-details", args=[draft.pk]
        )
        [message] = shown_messages(response)
        assert message.startswith(
            "Draft saved with 2 files attached. A draft does not stop the clock: submit it by "
        )
        html = response.content.decode()
        for evidence in draft.evidence.all():
            assert evidence.sha256 in html
            assert evidence.get_absolute_url() in html

    def test_a_saved_draft_may_still_lack_a_reason(self, draft, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"reason": "", "description": "Half written", "action": "save"},
        )

        assert response.status_code == 302
        assert reload(draft).description == "Half written"

    def test_continues_to_the_amount_once_reason_and_description_are_given(self, draft, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"reason": "QUALITY", "description": "All delivered.", "action": "continue"},
        )

        assert response["Location"] == reverse("disputes:dispute-amount", args=[draft.pk])
        assert reload(draft).reason == "QUALITY"

    def test_asks_for_reason_and_description_before_continuing(self, draft, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"reason": "", "description": "", "action": "continue"},
        )

        assert response.status_code == 400
        assert response.context["form"].errors == {
            "reason": ["Choose a reason to continue."],
            "description": ["Describe the agreements and your work to continue."],
        }

    def test_refuses_a_disguised_file_and_changes_nothing(self, draft, freelancer, settings):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {
                "reason": "NON_PAYMENT",
                "description": "Will not be saved.",
                "files": [upload("good.pdf"), upload("x.pdf", DISGUISED_EXE)],
                "action": "save",
            },
        )

        assert response.status_code == 400
        assert shown_messages(response) == []
        assert response.content.decode().count(NOT_ALLOWED) == 1
        assert response.context["form"].errors["files"] == [NOT_ALLOWED]
        assert response.context["form"]["description"].value() == "Will not be saved."
        assert (reload(draft).reason, reload(draft).description) == ("", "")
        assert Evidence.objects.count() == 0
        assert stored_evidence_files(settings) == []

    def test_refuses_an_oversized_file_and_stores_nothing(self, draft, freelancer, settings):
        settings.UPLOAD_MAX_BYTES = 16

        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"reason": "NON_PAYMENT", "files": [upload("big.pdf")], "action": "save"},
        )

        assert response.status_code == 400
        assert response.context["form"].errors["files"] == ["Each file may be at most 16 bytes."]
        assert "each file up to 16 bytes" in response.content.decode()
        assert reload(draft).reason == ""
        assert Evidence.objects.count() == 0
        assert stored_evidence_files(settings) == []

    def test_refuses_more_files_than_allowed(self, draft, freelancer, settings):
        settings.UPLOAD_MAX_FILES = 1

        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"files": [upload("a.pdf"), upload("b.pdf")], "action": "save"},
        )

        assert response.status_code == 400
        assert response.context["form"].errors["files"] == ["At most 1 files may be attached."]
        assert Evidence.objects.count() == 0
        assert stored_evidence_files(settings) == []

    def test_refuses_to_edit_a_submitted_dispute(self, dispute, freelancer, settings):
        url = reverse("disputes:dispute-details", args=[dispute.pk])
        browser = browser_for(freelancer)
        before = stored_evidence_files(settings)

        page = browser.get(url, follow=True)
        response = browser.post(
            url,
            {"reason": "OTHER", "description": "Changed", "files": [upload()], "action": "save"},
            follow=True,
        )

        for answer in (page, response):
            assert shown_messages(answer) == ["A submitted dispute cannot be edited."]
            assert answer.redirect_chain[-1][0] == dispute.get_absolute_url()
        dispute = reload(dispute)
        assert (dispute.reason, dispute.evidence.count()) == ("NON_PAYMENT", 1)
        assert stored_evidence_files(settings) == before

    def test_is_404_for_the_client_while_drafting_and_for_a_stranger(
        self, draft, client_user, stranger
    ):
        url = reverse("disputes:dispute-details", args=[draft.pk])

        assert browser_for(client_user).get(url).status_code == 404
        assert browser_for(stranger).post(url, {"reason": "OTHER"}).status_code == 404
        assert reload(draft).reason == ""


class TestEvidenceRemove:
    def draft_file(self, draft: Dispute, name: str = "delivery.pdf") -> Evidence:
        return services.evidence_add(
            dispute=draft,
            actor=draft.refund_request.contract.freelancer,
            file=upload(name),
            now=timezone.now(),
        )

    def test_step_2_offers_a_remove_button_per_file(self, draft, freelancer):
        files = [self.draft_file(draft, "a.pdf"), self.draft_file(draft, "b.pdf")]

        response = browser_for(freelancer).get(reverse("disputes:dispute-details", args=[draft.pk]))

        html = response.content.decode()
        for evidence in files:
            assert reverse("disputes:evidence-remove", args=[evidence.pk]) in html
            assert f'form="evidence-remove-{evidence.pk}"' in html
            assert f'aria-label="Remove {evidence.name}"' in html

    def test_removes_the_file_and_its_stored_copy(
        self, draft, freelancer, settings, django_capture_on_commit_callbacks
    ):
        evidence = self.draft_file(draft)

        with django_capture_on_commit_callbacks(execute=True):
            response = browser_for(freelancer).post(
                reverse("disputes:evidence-remove", args=[evidence.pk]), follow=True
            )

        assert shown_messages(response) == ["Removed “delivery.pdf” from your draft."]
        assert response.redirect_chain[-1][0] == reverse(
            "disputes:dispute-details", args=[draft.pk]
        )
        assert not Evidence.objects.filter(pk=evidence.pk).exists()
        assert stored_evidence_files(settings) == []

    def test_refuses_a_file_of_a_submitted_dispute(self, dispute, freelancer):
        evidence = dispute.evidence.get()

        response = browser_for(freelancer).post(
            reverse("disputes:evidence-remove", args=[evidence.pk]), follow=True
        )

        assert shown_messages(response) == ["A submitted dispute cannot be edited."]
        assert response.redirect_chain[-1][0] == dispute.get_absolute_url()
        assert Evidence.objects.filter(pk=evidence.pk).exists()

    def test_refuses_the_clients_file_to_the_client(self, dispute, client_user):
        evidence = client_evidence(dispute)

        response = browser_for(client_user).post(
            reverse("disputes:evidence-remove", args=[evidence.pk]), follow=True
        )

        assert shown_messages(response) == ["Only the contract's freelancer can take this action."]
        assert Evidence.objects.filter(pk=evidence.pk).exists()

    def test_refuses_a_suspended_freelancer(self, draft, freelancer):
        from accounts.services import user_suspend

        evidence = self.draft_file(draft)
        user_suspend(user=freelancer, actor=support(), reason="x", now=timezone.now())

        response = browser_for(freelancer).post(
            reverse("disputes:evidence-remove", args=[evidence.pk]), follow=True
        )

        assert shown_messages(response) == [
            "Your account is suspended: you can read, but not take actions."
        ]
        assert Evidence.objects.filter(pk=evidence.pk).exists()

    @pytest.mark.parametrize("viewer", ["client_user", "stranger"])
    def test_is_404_for_the_client_of_a_draft_and_for_a_stranger(self, draft, viewer, request):
        evidence = self.draft_file(draft)

        response = browser_for(request.getfixturevalue(viewer)).post(
            reverse("disputes:evidence-remove", args=[evidence.pk])
        )

        assert response.status_code == 404
        assert Evidence.objects.filter(pk=evidence.pk).exists()

    def test_a_get_is_405_and_an_unknown_file_404(self, draft, freelancer):
        evidence = self.draft_file(draft)
        browser = browser_for(freelancer)

        assert (
            browser.get(reverse("disputes:evidence-remove", args=[evidence.pk])).status_code == 405
        )
        assert browser.post(reverse("disputes:evidence-remove", args=[999999])).status_code == 404


class TestAmountStep:
    def test_shows_r_and_goes_on_to_the_review(self, draft, freelancer):
        browser = browser_for(freelancer)
        url = reverse("disputes:dispute-amount", args=[draft.pk])

        page = browser.get(url)
        response = browser.post(url, {"amount": "250.00"})

        assert "at most the refund asked for, 300.00 USD" in page.content.decode()
        assert response["Location"] == reverse("disputes:dispute-review", args=[draft.pk])
        assert reload(draft).amount == Decimal("250.00")

    def test_accepts_the_whole_refund(self, draft, freelancer):
        browser_for(freelancer).post(
            reverse("disputes:dispute-amount", args=[draft.pk]), {"amount": "300"}
        )

        assert reload(draft).amount == Decimal("300.00")

    @pytest.mark.parametrize(
        ("amount", "error"),
        [
            ("0", "The amount must be greater than zero."),
            ("300.01", "You can ask to review at most the refund requested, 300.00 USD."),
            ("1.001", "USD amounts have at most 2 decimal places."),
            ("-5", "The amount cannot be negative."),
            ("", "Enter the amount you ask to have reviewed."),
        ],
    )
    def test_shows_an_amount_out_of_range_on_the_field(self, draft, freelancer, amount, error):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-amount", args=[draft.pk]), {"amount": amount}
        )

        assert response.status_code == 400
        assert response.context["form"].errors["amount"] == [error]
        assert reload(draft).amount is None

    def test_refuses_to_change_a_submitted_amount(self, dispute, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-amount", args=[dispute.pk]), {"amount": "300"}, follow=True
        )

        assert shown_messages(response) == ["A submitted dispute cannot be edited."]
        assert reload(dispute).amount == Decimal("250.00")

    def test_refuses_once_the_deadline_has_passed(self, draft, freelancer):
        with time_machine.travel(draft.refund_request.response_due_at, tick=False):
            response = browser_for(freelancer).post(
                reverse("disputes:dispute-amount", args=[draft.pk]), {"amount": "100"}, follow=True
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to submit this dispute passed on ")
        assert reload(draft).amount is None


class TestReviewAndSubmit:
    def complete(self, draft):
        return services.dispute_update(
            dispute=draft,
            actor=draft.refund_request.contract.freelancer,
            changes={"reason": "NON_PAYMENT", "description": "All delivered.", "amount": "250"},
            now=timezone.now(),
        )

    def test_review_shows_everything_and_warns_it_is_final(self, draft, freelancer):
        self.complete(draft)

        response = browser_for(freelancer).get(reverse("disputes:dispute-review", args=[draft.pk]))

        html = response.content.decode()
        assert COMMENT in html and "Non-payment" in html and "All delivered." in html
        assert "250.00 USD" in html and "300.00 USD" in html
        assert "Once submitted, nothing can be edited or added." in html
        assert reverse("disputes:dispute-submit", args=[draft.pk]) in html
        assert response.context["missing"] == []

    def test_review_lists_what_is_still_missing(self, draft, freelancer):
        response = browser_for(freelancer).get(reverse("disputes:dispute-review", args=[draft.pk]))

        assert [label for label, _ in response.context["missing"]] == [
            "a reason",
            "a description of the agreements and your work",
            "the amount to review",
        ]

    def test_submits_stops_the_clock_and_tells_the_freelancer_what_comes_next(
        self, draft, freelancer
    ):
        self.complete(draft)

        response = browser_for(freelancer).post(
            reverse("disputes:dispute-submit", args=[draft.pk]), follow=True
        )

        draft = reload(draft)
        assert draft.status == Dispute.Status.AWAITING_CLIENT
        assert reload(draft.refund_request).status == RefundRequest.Status.DISPUTED
        assert response.redirect_chain[-1][0] == draft.get_absolute_url()
        [message] = shown_messages(response)
        assert message.startswith("Dispute submitted. carol-client has until ")
        assert message.endswith(
            "to accept or decline it; if they do nothing, 250.00 USD is released to you."
        )

    def test_refuses_an_incomplete_filing(self, draft, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-submit", args=[draft.pk]), follow=True
        )

        [message] = shown_messages(response)
        assert message.startswith("The filing is not complete. A reason is required")
        assert response.redirect_chain[-1][0] == reverse("disputes:dispute-review", args=[draft.pk])
        assert reload(draft).status == Dispute.Status.DRAFT

    def test_refuses_to_submit_twice(self, dispute, freelancer):
        browser = browser_for(freelancer)

        page = browser.get(reverse("disputes:dispute-review", args=[dispute.pk]), follow=True)
        response = browser.post(reverse("disputes:dispute-submit", args=[dispute.pk]), follow=True)

        assert shown_messages(page) == ["A submitted dispute cannot be edited."]
        assert shown_messages(response) == ["A submitted dispute cannot be edited."]
        assert TimelineEvent.objects.filter(kind=TimelineEvent.Kind.DISPUTE_FILED).count() == 1

    def test_refuses_once_the_deadline_has_passed(self, draft, freelancer):
        self.complete(draft)

        with time_machine.travel(draft.refund_request.response_due_at, tick=False):
            response = browser_for(freelancer).post(
                reverse("disputes:dispute-submit", args=[draft.pk]), follow=True
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to submit this dispute passed on ")
        assert reload(draft).status == Dispute.Status.LAPSED

    def test_refuses_the_client_and_strangers(self, draft, client_user, stranger):
        self.complete(draft)
        url = reverse("disputes:dispute-submit", args=[draft.pk])

        assert browser_for(client_user).post(url).status_code == 404
        assert browser_for(stranger).post(url).status_code == 404
        assert reload(draft).status == Dispute.Status.DRAFT


# --- See Dispute ----------------------------------------------------------------------------------


class TestDisputePage:
    def test_shows_the_client_amounts_deadline_filing_evidence_and_timeline(
        self, dispute, client_user
    ):
        evidence = dispute.evidence.get()

        response = browser_for(client_user).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "Waiting for the client" in html
        assert "300.00 USD" in html and "250.00 USD" in html and "50.00 USD" in html
        assert "The client&#x27;s time to accept or decline the dispute" in html
        assert 'role="progressbar"' in html and "data-countdown" in html
        assert "Non-payment" in html and "five pages" in html
        assert evidence.get_absolute_url() in html and evidence.sha256 in html
        assert "Dispute filed" in html and "Evidence added" in html
        assert reverse("disputes:dispute-accept", args=[dispute.pk]) in html
        assert reverse("disputes:dispute-decline", args=[dispute.pk]) in html
        assert reverse("disputes:evidence-add", args=[dispute.pk]) in html

    def test_hides_the_feedback_from_the_client_while_open(self, dispute, client_user):
        response = browser_for(client_user).get(dispute.get_absolute_url())

        assert COMMENT not in response.content.decode()
        assert "stays hidden until the dispute closes" in response.content.decode()
        assert response.context["feedback_visible"] is False

    def test_shows_the_feedback_to_the_client_once_closed(self, dispute, client_user):
        services.dispute_accept(dispute=dispute, actor=client_user, now=timezone.now())

        response = browser_for(client_user).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert COMMENT in html and "Rating: 2 of 5" in html
        assert "Paid to the freelancer" in html and "Refunded to the client" in html

    def test_shows_the_freelancer_their_feedback_and_no_client_actions(self, dispute, freelancer):
        response = browser_for(freelancer).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert COMMENT in html
        assert "Hidden from the client until the dispute closes." in html
        for name in ("dispute-accept", "dispute-decline", "evidence-add"):
            assert reverse(f"disputes:{name}", args=[dispute.pk]) not in html

    def test_shows_times_in_the_viewers_time_zone(self, dispute, client_user):
        client_user.time_zone = "Asia/Tokyo"
        client_user.save(update_fields=["time_zone"])
        due = timezone.localtime(dispute.response_due_at, timezone.get_fixed_timezone(9 * 60))

        response = browser_for(client_user).get(dispute.get_absolute_url())

        assert f"{due:%H:%M} JST".encode() in response.content

    def test_labels_the_mediation_target_a_service_level(self, dispute, client_user, freelancer):
        services.dispute_decline(
            dispute=dispute, actor=client_user, reason="Only three pages.", now=timezone.now()
        )

        response = browser_for(freelancer).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert response.context["deadline"].enforced is False
        assert "Service level" in html
        assert "Only three pages." in html  # the decline reason, on the page and the timeline

    def test_names_the_system_when_a_deadline_acted(self, dispute, freelancer):
        deadlines.sweep(
            "disputes.client_answers_expire", now=dispute.response_due_at, batch_size=10
        )

        response = browser_for(freelancer).get(dispute.get_absolute_url())

        assert "by the system" in response.content.decode()
        assert reload(dispute).status == Dispute.Status.CLOSED

    def test_shows_internal_events_to_staff_only(self, dispute, client_user, freelancer, staff):
        TimelineEvent.objects.create(
            refund_request=dispute.refund_request,
            dispute=dispute,
            kind="INTERNAL_NOTE",
            actor=staff,
            at=timezone.now(),
            note="Agent's note: check page three.",
            internal=True,
        )

        as_staff = browser_for(staff).get(dispute.get_absolute_url())
        as_client = browser_for(client_user).get(dispute.get_absolute_url())
        as_freelancer = browser_for(freelancer).get(dispute.get_absolute_url())

        assert b"check page three" in as_staff.content
        assert COMMENT.encode() in as_staff.content  # staff read the feedback too
        assert b"check page three" not in as_client.content
        assert b"check page three" not in as_freelancer.content

    def test_shows_the_freelancer_a_draft_with_a_link_to_continue(self, draft, freelancer):
        response = browser_for(freelancer).get(draft.get_absolute_url())

        html = response.content.decode()
        assert "Continue filing" in html
        assert reverse("disputes:dispute-details", args=[draft.pk]) in html

    def test_is_404_for_the_client_while_drafting(self, draft, client_user):
        assert browser_for(client_user).get(draft.get_absolute_url()).status_code == 404

    def test_is_404_for_a_stranger(self, dispute, stranger):
        assert browser_for(stranger).get(dispute.get_absolute_url()).status_code == 404

    def test_uses_the_same_number_of_queries_for_few_or_many_events_and_files(
        self, dispute, client_user, django_assert_num_queries
    ):
        browser = browser_for(client_user)
        browser.get(dispute.get_absolute_url())  # warm the session
        with CaptureQueriesContext(connection) as few:
            browser.get(dispute.get_absolute_url())
        few = len(few.captured_queries)  # read now: the next request resets the query log
        for number in range(8):
            client_evidence(dispute, name=f"answer-{number}.pdf")

        assert few > 0
        browser.get(
            dispute.get_absolute_url()
        )  # warm the cache: the new rows may have notified the user
        with django_assert_num_queries(few):
            response = browser.get(dispute.get_absolute_url())

        assert len(response.context["evidence"]) == 9
        assert len(response.context["events"]) == 11


class TestDisputeAccept:
    def test_releases_d_refunds_the_rest_and_says_so(self, dispute, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:dispute-accept", args=[dispute.pk]), follow=True
        )

        dispute = reload(dispute)
        assert dispute.status == Dispute.Status.CLOSED
        assert (dispute.to_freelancer, dispute.to_client) == (Decimal("250.00"), Decimal("50.00"))
        assert reload(dispute.milestone).status == Milestone.Status.SETTLED
        assert shown_messages(response) == [
            "You accepted the dispute: 250.00 USD was released to frank-freelancer and "
            "50.00 USD refunded to you."
        ]

    def test_refuses_the_freelancer(self, dispute, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-accept", args=[dispute.pk]), follow=True
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert reload(dispute).status == Dispute.Status.AWAITING_CLIENT

    def test_refuses_a_dispute_already_declined(self, dispute, client_user):
        services.dispute_decline(
            dispute=dispute, actor=client_user, reason="No.", now=timezone.now()
        )
        transactions = LedgerTransaction.objects.count()

        response = browser_for(client_user).post(
            reverse("disputes:dispute-accept", args=[dispute.pk]), follow=True
        )

        assert 'role="alert"' in response.content.decode()
        assert reload(dispute).status == Dispute.Status.IN_MEDIATION
        assert LedgerTransaction.objects.count() == transactions

    def test_refuses_once_the_deadline_has_passed(self, dispute, client_user):
        with time_machine.travel(dispute.response_due_at, tick=False):
            response = browser_for(client_user).post(
                reverse("disputes:dispute-accept", args=[dispute.pk]), follow=True
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to answer this dispute passed on ")
        assert reload(dispute).outcome == Dispute.Outcome.CLIENT_SILENT

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).post(reverse("disputes:dispute-accept", args=[dispute.pk]))

        assert response.status_code == 404
        assert reload(dispute).status == Dispute.Status.AWAITING_CLIENT


class TestDisputeDecline:
    def test_sends_the_dispute_to_mediation_with_the_reason(self, dispute, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:dispute-decline", args=[dispute.pk]),
            {"reason": "Only three of five pages were usable."},
            follow=True,
        )

        dispute = reload(dispute)
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert dispute.decline_reason == "Only three of five pages were usable."
        [message] = shown_messages(response)
        assert message.startswith("You declined the dispute. A mediation agent will review")
        assert "Dispute declined by the client" in response.content.decode()

    def test_requires_a_reason(self, dispute, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:dispute-decline", args=[dispute.pk]), {"reason": " "}
        )

        assert response.status_code == 400
        assert response.context["decline_form"].errors["reason"] == [
            "Tell the mediation agent why you decline."
        ]
        assert reload(dispute).status == Dispute.Status.AWAITING_CLIENT

    def test_refuses_the_freelancer(self, dispute, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:dispute-decline", args=[dispute.pk]), {"reason": "Mine"}, follow=True
        )

        assert shown_messages(response) == ["Only the contract's client can take this action."]
        assert reload(dispute).status == Dispute.Status.AWAITING_CLIENT

    def test_refuses_once_the_deadline_has_passed(self, dispute, client_user):
        with time_machine.travel(dispute.response_due_at + timedelta(hours=1), tick=False):
            response = browser_for(client_user).post(
                reverse("disputes:dispute-decline", args=[dispute.pk]),
                {"reason": "Too late"},
                follow=True,
            )

        [message] = shown_messages(response)
        assert message.startswith("The deadline to answer this dispute passed on ")
        assert reload(dispute).outcome == Dispute.Outcome.CLIENT_SILENT

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).post(
            reverse("disputes:dispute-decline", args=[dispute.pk]), {"reason": "No"}
        )

        assert response.status_code == 404


class TestEvidenceAdd:
    def test_adds_the_clients_files_to_the_dispute_and_timeline(self, dispute, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[dispute.pk]),
            {"files": [upload("brief.pdf")], "description": "The original brief"},
            follow=True,
        )

        added = dispute.evidence.get(uploaded_by=client_user)
        assert (added.name, added.description) == ("brief.pdf", "The original brief")
        assert shown_messages(response) == ["Added 1 file to the dispute: “brief.pdf”."]
        assert added.sha256 in response.content.decode()

    def test_refuses_a_disguised_file_and_stores_nothing(self, dispute, client_user, settings):
        before = stored_evidence_files(settings)

        response = browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[dispute.pk]),
            {"files": [upload("ok.pdf"), upload("x.pdf", DISGUISED_EXE)]},
        )

        assert response.status_code == 400
        assert response.context["evidence_form"].errors["files"] == [NOT_ALLOWED]
        assert dispute.evidence.count() == 1
        assert stored_evidence_files(settings) == before

    def test_refuses_an_oversized_file(self, dispute, client_user, settings):
        settings.UPLOAD_MAX_BYTES = 16

        response = browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[dispute.pk]), {"files": [upload("big.pdf")]}
        )

        assert response.status_code == 400
        assert response.context["evidence_form"].errors["files"] == [
            "Each file may be at most 16 bytes."
        ]
        assert dispute.evidence.count() == 1

    def test_asks_for_a_file(self, dispute, client_user):
        response = browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[dispute.pk]), {"description": "Nothing"}
        )

        assert response.status_code == 400
        assert response.context["evidence_form"].errors["files"] == ["Choose at least one file."]

    def test_refuses_the_freelancer_after_submitting(self, dispute, freelancer, settings):
        before = stored_evidence_files(settings)

        response = browser_for(freelancer).post(
            reverse("disputes:evidence-add", args=[dispute.pk]),
            {"files": [upload("late.pdf")]},
            follow=True,
        )

        [message] = shown_messages(response)
        assert message.startswith("Evidence can be added only by the freelancer while drafting")
        assert dispute.evidence.count() == 1
        assert stored_evidence_files(settings) == before

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).post(
            reverse("disputes:evidence-add", args=[dispute.pk]), {"files": [upload()]}
        )

        assert response.status_code == 404
        assert dispute.evidence.count() == 1


class TestEvidenceDownload:
    @pytest.mark.parametrize("party", ["client_user", "freelancer"])
    def test_sends_the_file_as_an_attachment_to_each_party(self, dispute, party, request):
        evidence = dispute.evidence.get()

        response = browser_for(request.getfixturevalue(party)).get(evidence.get_absolute_url())

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        disposition = f'attachment; filename="evidence-{evidence.pk}.pdf"'
        assert response["Content-Disposition"] == disposition
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_is_served_to_staff(self, dispute, staff):
        response = browser_for(staff).get(dispute.evidence.get().get_absolute_url())

        assert response.status_code == 200

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).get(dispute.evidence.get().get_absolute_url())

        assert response.status_code == 404

    def test_a_drafts_files_are_404_for_the_client(self, draft, client_user, freelancer):
        evidence = services.evidence_add(
            dispute=draft, actor=freelancer, file=upload(), now=timezone.now()
        )

        assert browser_for(client_user).get(evidence.get_absolute_url()).status_code == 404
        assert browser_for(freelancer).get(evidence.get_absolute_url()).status_code == 200

    def test_sends_anonymous_visitors_to_log_in(self, client, dispute):
        response = client.get(dispute.evidence.get().get_absolute_url())

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# --- Support cases --------------------------------------------------------------------------------


def open_case(milestone: Milestone, *files) -> SupportCase:
    return services.support_case_open(
        milestone=milestone,
        actor=milestone.contract.freelancer,
        description="All pages were delivered on 3 March.",
        files=list(files),
        now=timezone.now(),
    )


class TestSupportCaseOpen:
    def test_the_contract_page_offers_the_freelancer_the_form(self, contract, freelancer):
        funded = make_milestone(contract, funded=True)
        pending = make_milestone(contract)

        html = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()

        assert reverse("disputes:support-case-open", args=[funded.pk]) in html
        assert reverse("disputes:support-case-open", args=[pending.pk]) not in html
        assert "Ask support for help" in html

    def test_the_contract_page_does_not_offer_it_to_the_client(self, contract, client_user):
        make_milestone(contract, funded=True)

        html = browser_for(client_user).get(contract.get_absolute_url()).content.decode()

        assert "Ask support for help" not in html

    def test_opens_a_case_with_files_and_shows_it(self, contract, freelancer):
        milestone = make_milestone(contract, submitted=True)

        response = browser_for(freelancer).post(
            reverse("disputes:support-case-open", args=[milestone.pk]),
            {"description": "Delivered; no answer since.", "files": [upload("proof.pdf")]},
            follow=True,
        )

        case = SupportCase.objects.get()
        assert case.status == SupportCase.Status.OPEN
        assert case.description == "Delivered; no answer since."
        assert response.redirect_chain[-1][0] == case.get_absolute_url()
        assert shown_messages(response)[0].startswith(f"Support case #{case.pk} opened.")
        assert case.evidence.get().sha256 in response.content.decode()

    def test_asks_for_a_description(self, contract, freelancer):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(freelancer).post(
            reverse("disputes:support-case-open", args=[milestone.pk]), {"description": ""}
        )

        assert response.status_code == 400
        assert response.context["form"].errors["description"] == [
            "Describe the work you delivered and why payment is due."
        ]
        assert SupportCase.objects.count() == 0

    def test_refuses_a_disguised_file_and_stores_nothing(self, contract, freelancer, settings):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(freelancer).post(
            reverse("disputes:support-case-open", args=[milestone.pk]),
            {"description": "See file", "files": [upload("x.pdf", DISGUISED_EXE)]},
        )

        assert response.status_code == 400
        assert response.context["form"].errors["files"] == [NOT_ALLOWED]
        assert SupportCase.objects.count() == 0
        assert Evidence.objects.count() == 0
        assert stored_evidence_files(settings) == []

    def test_refuses_a_milestone_on_an_ended_contract(self, refund, freelancer):
        response = browser_for(freelancer).post(
            reverse("disputes:support-case-open", args=[refund.milestone_id]),
            {"description": "Help"},
            follow=True,
        )

        [message] = shown_messages(response)
        assert message.startswith("A support case is for funded work on an active contract")
        assert SupportCase.objects.count() == 0

    def test_refuses_the_client(self, contract, client_user):
        milestone = make_milestone(contract, funded=True)

        response = browser_for(client_user).post(
            reverse("disputes:support-case-open", args=[milestone.pk]),
            {"description": "Help"},
            follow=True,
        )

        assert shown_messages(response) == ["Only the contract's freelancer can take this action."]
        assert SupportCase.objects.count() == 0

    def test_is_404_for_a_stranger(self, contract, stranger):
        milestone = make_milestone(contract, funded=True)
        url = reverse("disputes:support-case-open", args=[milestone.pk])

        assert browser_for(stranger).get(url).status_code == 404
        assert browser_for(stranger).post(url, {"description": "Hi"}).status_code == 404
        assert SupportCase.objects.count() == 0


class TestSupportCasePage:
    def test_shows_the_freelancer_the_case_and_its_files(self, contract, freelancer):
        case = open_case(make_milestone(contract, funded=True), upload("proof.pdf"))

        response = browser_for(freelancer).get(case.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "All pages were delivered on 3 March." in html
        assert case.evidence.get().get_absolute_url() in html
        assert "Open" in html

    def test_shows_the_staff_note_once_closed(self, contract, freelancer, staff):
        case = open_case(make_milestone(contract, funded=True))
        services.support_case_close(
            case=case, actor=staff, note="We asked the client to release.", now=timezone.now()
        )

        as_freelancer = browser_for(freelancer).get(case.get_absolute_url())
        as_staff = browser_for(staff).get(case.get_absolute_url())

        assert b"We asked the client to release." in as_freelancer.content
        assert as_staff.status_code == 200

    @pytest.mark.parametrize("viewer", ["client_user", "stranger"])
    def test_is_404_for_anyone_else(self, contract, viewer, request):
        case = open_case(make_milestone(contract, funded=True), upload())
        browser = browser_for(request.getfixturevalue(viewer))

        assert browser.get(case.get_absolute_url()).status_code == 404
        assert browser.get(case.evidence.get().get_absolute_url()).status_code == 404


# --- The contract pages ---------------------------------------------------------------------------


def pending_hints(response) -> list[tuple[str, bool, str]]:
    return [
        (item.hint, item.your_turn, item.url)
        for row in response.context["rows"]
        for item in row.milestones
    ]


class TestContractPagesLinks:
    def test_offers_the_client_end_contract_on_an_active_contract_only(
        self, contract, client_user, freelancer
    ):
        make_milestone(contract, funded=True)
        url = reverse("disputes:contract-end", args=[contract.pk])

        detail = browser_for(client_user).get(contract.get_absolute_url()).content.decode()
        history = browser_for(client_user).get(reverse("contracts:history")).content.decode()
        as_freelancer = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()

        assert url in detail and url in history
        assert url not in as_freelancer

    def test_no_end_contract_once_ended(self, refund, client_user):
        html = browser_for(client_user).get(refund.contract.get_absolute_url()).content.decode()

        assert reverse("disputes:contract-end", args=[refund.contract_id]) not in html

    def test_the_freelancer_is_asked_to_answer_the_refund_request(self, refund, freelancer):
        response = browser_for(freelancer).get(reverse("contracts:history"))

        assert pending_hints(response) == [
            ("Answer refund request", True, refund.get_absolute_url())
        ]
        assert refund.get_absolute_url() in response.content.decode()
        assert "See Request" in response.content.decode()

    def test_the_freelancer_is_asked_to_finish_a_draft(self, draft, freelancer, client_user):
        as_freelancer = browser_for(freelancer).get(reverse("contracts:history"))
        as_client = browser_for(client_user).get(reverse("contracts:history"))

        assert pending_hints(as_freelancer) == [
            (
                "Finish your dispute draft",
                True,
                reverse("disputes:dispute-details", args=[draft.pk]),
            )
        ]
        assert pending_hints(as_client)[0][:2] == (
            "Waiting for the freelancer to answer the refund request",
            False,
        )
        assert draft.get_absolute_url() not in as_client.content.decode()

    def test_the_client_is_asked_to_answer_the_dispute(self, dispute, client_user, freelancer):
        as_client = browser_for(client_user).get(reverse("contracts:history"))
        as_freelancer = browser_for(freelancer).get(reverse("contracts:history"))

        assert pending_hints(as_client) == [("Answer dispute", True, dispute.get_absolute_url())]
        assert pending_hints(as_freelancer)[0][:2] == (
            "Waiting for the client to answer your dispute",
            False,
        )
        for response in (as_client, as_freelancer):
            assert "See Dispute" in response.content.decode()

    def test_the_contract_page_links_see_request_and_see_dispute(self, dispute, client_user):
        html = browser_for(client_user).get(dispute.milestone.contract.get_absolute_url())

        assert dispute.refund_request.get_absolute_url() in html.content.decode()
        assert dispute.get_absolute_url() in html.content.decode()
        assert "Answer dispute" in html.content.decode()

    def test_history_uses_the_same_number_of_queries_with_2_or_8_disputed_contracts(
        self, client_user, freelancer
    ):
        def add_contracts(count):
            for number in range(count):
                contract = ContractFactory(client=client_user, freelancer=freelancer)
                refund = end_contract(contract)
                if number % 3 == 1:
                    start_draft(refund)
                elif number % 3 == 2:
                    file_dispute(refund)
                make_milestone(ContractFactory(client=client_user, freelancer=freelancer))

        add_contracts(2)
        browser = browser_for(freelancer)
        browser.get(reverse("contracts:history"))
        with CaptureQueriesContext(connection) as few:
            browser.get(reverse("contracts:history"))
        few = len(few.captured_queries)  # read now: the next request resets the query log
        add_contracts(6)

        browser.get(
            reverse("contracts:history")
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as many:
            response = browser.get(reverse("contracts:history"))
        many = len(many.captured_queries)

        assert len(response.context["rows"]) == 16
        assert many == few > 0

    def test_contract_page_uses_the_same_number_of_queries_with_support_cases(
        self, contract, freelancer
    ):
        def add(count):
            for _ in range(count):
                open_case(make_milestone(contract, funded=True))

        add(1)
        browser = browser_for(freelancer)
        browser.get(contract.get_absolute_url())
        with CaptureQueriesContext(connection) as few:
            browser.get(contract.get_absolute_url())
        few = len(few.captured_queries)  # read now: the next request resets the query log
        add(5)

        browser.get(
            contract.get_absolute_url()
        )  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as many:
            response = browser.get(contract.get_absolute_url())
        many = len(many.captured_queries)

        assert response.content.decode().count("/support-cases/") == 6
        assert many == few > 0


class TestActionUrls:
    @pytest.mark.parametrize(
        ("name", "of"),
        [
            ("refund-request-accept", "refund"),
            ("dispute-submit", "dispute"),
            ("dispute-accept", "dispute"),
            ("dispute-decline", "dispute"),
            ("evidence-add", "dispute"),
        ],
    )
    def test_a_get_on_an_action_is_405(self, dispute, client_user, name, of):
        pk = dispute.refund_request_id if of == "refund" else dispute.pk

        response = browser_for(client_user).get(reverse(f"disputes:{name}", args=[pk]))

        assert response.status_code == 405

    @pytest.mark.parametrize(
        "name",
        [
            "refund-request-accept",
            "dispute-feedback",
            "dispute-details",
            "dispute-amount",
            "dispute-submit",
            "dispute-accept",
            "dispute-decline",
            "evidence-add",
            "support-case-open",
            "contract-end",
        ],
    )
    def test_an_action_on_an_unknown_object_is_404(self, client_user, name):
        response = browser_for(client_user).post(reverse(f"disputes:{name}", args=[999999]))

        assert response.status_code == 404

    @pytest.mark.parametrize(
        "name",
        [
            "refund-request",
            "dispute",
            "dispute-feedback",
            "dispute-details",
            "dispute-amount",
            "dispute-review",
            "evidence-download",
            "support-case",
            "support-case-open",
            "contract-end",
        ],
    )
    def test_a_page_of_an_unknown_object_is_404(self, client_user, name):
        response = browser_for(client_user).get(reverse(f"disputes:{name}", args=[999999]))

        assert response.status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(self, client, dispute):
        response = client.post(reverse("disputes:dispute-accept", args=[dispute.pk]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert reload(dispute).status == Dispute.Status.AWAITING_CLIENT
