"""Submitted work goes through the same upload checks as evidence: the API and the browser form
refuse what could act where it is opened, and what they keep is served under a generated name.
"""

import pytest
from django.urls import reverse

from contracts.models import Milestone, Submission, SubmissionFile
from tests import kit
from tests import upload_samples as samples

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]


def stored_files(settings) -> list:
    folder = settings.PRIVATE_MEDIA_ROOT / "submissions"
    return sorted(folder.iterdir()) if folder.exists() else []


@pytest.fixture
def milestone(contract):
    return kit.make_milestone(contract, funded=True)


class TestSubmitApi:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile())
    def test_refuses_the_file_and_submits_nothing(
        self, milestone, freelancer, settings, name, content, message
    ):
        response = kit.api_as(freelancer).post(
            f"/api/v1/milestones/{milestone.pk}/submit/",
            {"message": "Attached.", "files": [samples.upload(name, content)]},
            format="multipart",
        )

        error = kit.assert_error(response, 400, "invalid_file")
        assert error["fields"] == {"files": [message]}
        assert kit.reload(milestone).status == Milestone.Status.FUNDED
        assert not Submission.objects.exists()
        assert stored_files(settings) == []

    def test_keeps_a_pdf_named_as_a_program_under_a_generated_pdf_name(
        self, milestone, freelancer, client_user, settings
    ):
        response = kit.api_as(freelancer).post(
            f"/api/v1/milestones/{milestone.pk}/submit/",
            {"message": "Attached.", "files": [samples.upload("setup.exe", samples.PDF_BYTES)]},
            format="multipart",
        )

        assert response.status_code == 200, response.content
        stored = SubmissionFile.objects.get()
        [listed] = response.json()["submissions"][0]["files"]
        assert listed["name"] == "setup.exe"
        assert listed["download_name"] == f"work-{stored.pk}.pdf"
        [on_disk] = stored_files(settings)
        assert on_disk.suffix == ".pdf" and "setup" not in on_disk.name
        download = kit.browser_for(client_user).get(stored.get_absolute_url())
        assert download["Content-Disposition"] == f'attachment; filename="work-{stored.pk}.pdf"'
        assert download["Content-Type"] == "application/pdf"


class TestSubmitForm:
    @pytest.mark.parametrize(("name", "content", "message"), samples.hostile())
    def test_refuses_the_file_on_its_field_and_submits_nothing(
        self, milestone, freelancer, settings, name, content, message
    ):
        response = kit.browser_for(freelancer).post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {"message": "Here it is.", "files": [samples.upload(name, content)]},
        )

        assert response.status_code == 400
        assert response.context["panels"][0].submit_form.errors["files"] == [message]
        assert kit.reload(milestone).status == Milestone.Status.FUNDED
        assert stored_files(settings) == []

    def test_shows_the_uploaded_name_only_as_text(self, milestone, contract, freelancer):
        browser = kit.browser_for(freelancer)

        browser.post(
            reverse("contracts:milestone-submit", args=[milestone.pk]),
            {
                "message": "Done.",
                "files": [samples.upload("<img src=x onerror=alert(1)>.pdf", samples.PDF_BYTES)],
            },
        )

        html = browser.get(contract.get_absolute_url()).content.decode()
        assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in html
        assert "<img src=x" not in html
