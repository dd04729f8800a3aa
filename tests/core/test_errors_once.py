"""Each refusal is shown once, at the field it is about, and that field is focused.

A refused release, a split that does not add up and an oversized upload: the page that comes back
holds the message exactly once, and no flash message repeats it.
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contracts.models import LedgerTransaction
from disputes.models import Evidence
from tests import kit
from tests.kit import PDF_BYTES, browser_for, make_milestone, shown_messages

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]


def focused_field(page: str) -> list[str]:
    """The names of the fields the page focuses when it loads."""
    return re.findall(r'<(?:input|textarea|select)[^>]*\bname="([^"]+)"[^>]*\bautofocus', page)


class TestARefusedRelease:
    def test_shows_the_message_once_at_the_amount(self, contract, client_user):
        milestone = make_milestone(contract, submitted=True)
        error = "Only 500.00 USD is held in escrow for this milestone."

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]), {"amount": "600.00"}
        )

        page = response.content.decode()
        assert response.status_code == 400
        assert page.count(error) == 1
        assert shown_messages(response) == []
        assert focused_field(page) == ["amount"]
        assert LedgerTransaction.objects.filter(kind="RELEASE").count() == 0

    def test_a_refusal_no_field_shows_is_a_message_on_the_page(self, contract, client_user):
        milestone = make_milestone(contract)
        error = "This milestone is pending; it cannot become released."

        response = browser_for(client_user).post(
            reverse("contracts:milestone-release", args=[milestone.pk]), {"amount": ""}, follow=True
        )

        assert shown_messages(response) == [error]
        assert response.content.decode().count(error) == 1


class TestASplitThatDoesNotAddUp:
    def test_shows_the_message_once_above_both_shares(self, contract, agent):
        dispute = kit.declined(contract)
        admin = browser_for(agent)
        error = "The two shares must add up to 300.00 USD, to the cent."

        response = admin.post(
            reverse("admin:mediation_mediationqueueitem_propose", args=[dispute.pk]),
            {"to_freelancer": "180.00", "to_client": "100.00", "rationale": "Four of five."},
        )

        page = response.content.decode()
        assert response.status_code == 400
        assert page.count(error) == 1
        assert error not in shown_messages(response)


class TestAnOversizedUpload:
    def test_on_see_dispute_shows_the_message_once_at_the_files(
        self, contract, client_user, settings
    ):
        dispute = kit.filed(contract)
        settings.UPLOAD_MAX_BYTES = 16
        error = "Each file may be at most 16 bytes."

        response = browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[dispute.pk]),
            {"files": [SimpleUploadedFile("big.pdf", PDF_BYTES, "application/pdf")]},
        )

        page = response.content.decode()
        assert response.status_code == 400
        assert page.count(error) == 1
        assert shown_messages(response) == []
        assert focused_field(page) == ["files"]
        assert Evidence.objects.count() == 0

    def test_in_the_filing_shows_the_message_once_at_the_files(
        self, contract, freelancer, settings
    ):
        draft = kit.draft(kit.refund_request(contract))
        settings.UPLOAD_MAX_BYTES = 16
        error = "Each file may be at most 16 bytes."

        response = browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {
                "reason": "NON_PAYMENT",
                "files": [SimpleUploadedFile("big.pdf", PDF_BYTES, "application/pdf")],
                "action": "save",
            },
        )

        page = response.content.decode()
        assert response.status_code == 400
        assert page.count(error) == 1
        assert shown_messages(response) == []
        assert focused_field(page) == ["files"]
