"""Every door of the disputes app that takes files refuses what could act where it is opened,
and serves what it keeps under a generated name: the evidence API, the filing's details step,
the client's evidence form, and support cases in the API and the browser.
"""

import pytest
from django.urls import reverse

from disputes.models import Evidence, SupportCase
from tests import kit
from tests import upload_samples as samples

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]


def stored_files(settings) -> list:
    folder = settings.PRIVATE_MEDIA_ROOT / "evidence"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def draft(contract):
    return kit.draft(kit.refund_request(contract))


@pytest.fixture
def awaiting_client(contract):
    """A submitted dispute waiting for the client's answer: the client may add evidence."""
    return kit.filed(contract)


class TestEvidenceApi:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile())
    def test_refuses_the_file_and_stores_nothing(
        self, draft, freelancer, settings, name, content, message
    ):
        response = kit.api_as(freelancer).post(
            kit.url(draft, "evidence/"),
            {"file": samples.upload(name, content)},
            format="multipart",
        )

        error = kit.assert_error(response, 400, "invalid_file")
        assert error == {"code": "invalid_file", "message": message, "fields": {"file": [message]}}
        assert Evidence.objects.count() == 0
        assert stored_files(settings) == []

    def test_stores_a_pdf_named_as_a_program_under_a_generated_pdf_name(
        self, draft, freelancer, client_user, settings
    ):
        api = kit.api_as(freelancer)

        response = api.post(
            kit.url(draft, "evidence/"),
            {"file": samples.upload("setup.exe", samples.PDF_BYTES)},
            format="multipart",
        )

        assert response.status_code == 201, response.content
        evidence = Evidence.objects.get()
        body = response.json()
        assert (body["name"], body["content_type"]) == ("setup.exe", "application/pdf")
        assert body["download_name"] == f"evidence-{evidence.pk}.pdf"
        [stored] = stored_files(settings)
        assert stored.suffix == ".pdf" and "setup" not in stored.name
        download = api.get(body["download_url"])
        assert download["Content-Disposition"] == (
            f'attachment; filename="evidence-{evidence.pk}.pdf"'
        )
        assert download["Content-Type"] == "application/pdf"
        assert b"".join(download.streaming_content) == samples.PDF_BYTES


class TestDetailsStep:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile())
    def test_refuses_the_file_on_its_field_and_saves_nothing(
        self, draft, freelancer, settings, name, content, message
    ):
        response = kit.browser_for(freelancer).post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {
                "reason": "NON_PAYMENT",
                "description": "Kept on the form, not saved.",
                "files": [
                    samples.upload("good.pdf", samples.PDF_BYTES),
                    samples.upload(name, content),
                ],
                "action": "save",
            },
        )

        assert response.status_code == 400
        assert response.context["form"].errors["files"] == [message]
        assert kit.reload(draft).description == draft.description
        assert Evidence.objects.count() == 0
        assert stored_files(settings) == []

    def test_shows_a_name_only_as_text_and_downloads_under_a_generated_name(
        self, draft, freelancer
    ):
        browser = kit.browser_for(freelancer)
        name = "<img src=x onerror=alert(1)>setup.exe"

        browser.post(
            reverse("disputes:dispute-details", args=[draft.pk]),
            {"files": [samples.upload(name, samples.PDF_BYTES)], "action": "save"},
        )

        evidence = Evidence.objects.get()
        html = browser.get(reverse("disputes:dispute-details", args=[draft.pk])).content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;setup.exe" in html
        assert "<img src=x" not in html
        download = browser.get(evidence.get_absolute_url())
        assert download["Content-Disposition"] == (
            f'attachment; filename="evidence-{evidence.pk}.pdf"'
        )


class TestClientEvidenceForm:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile()[::3])
    def test_refuses_the_file_on_its_field_and_stores_nothing(
        self, awaiting_client, client_user, settings, name, content, message
    ):
        before = stored_files(settings)

        response = kit.browser_for(client_user).post(
            reverse("disputes:evidence-add", args=[awaiting_client.pk]),
            {"files": [samples.upload(name, content)]},
        )

        assert response.status_code == 400
        assert response.context["evidence_form"].errors["files"] == [message]
        assert not awaiting_client.evidence.filter(uploaded_by=client_user).exists()
        assert stored_files(settings) == before


class TestSupportCases:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile()[1::3])
    def test_the_api_refuses_the_file_and_opens_no_case(
        self, contract, freelancer, settings, name, content, message
    ):
        milestone = kit.make_milestone(contract, submitted=True)

        response = kit.api_as(freelancer).post(
            "/api/v1/support-cases/",
            {
                "milestone": milestone.pk,
                "description": "Help.",
                "files": [samples.upload(name, content)],
            },
            format="multipart",
        )

        error = kit.assert_error(response, 400, "invalid_file")
        assert error["fields"] == {"files": [message]}
        assert SupportCase.objects.count() == 0
        assert stored_files(settings) == []

    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile()[2::3])
    def test_the_form_refuses_the_file_and_opens_no_case(
        self, contract, freelancer, settings, name, content, message
    ):
        milestone = kit.make_milestone(contract, submitted=True)

        response = kit.browser_for(freelancer).post(
            reverse("disputes:support-case-open", args=[milestone.pk]),
            {"description": "Help.", "files": [samples.upload(name, content)]},
        )

        assert response.status_code == 400
        assert response.context["form"].errors["files"] == [message]
        assert SupportCase.objects.count() == 0
        assert stored_files(settings) == []
