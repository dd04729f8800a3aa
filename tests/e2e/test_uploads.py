"""Uploads in Chromium: a hostile file is refused at its field, and a PDF named like a program
is kept, shown under its name as text, and downloaded under a generated .pdf name.
"""

from playwright.sync_api import expect

from disputes.models import Evidence
from tests import kit
from tests import upload_samples as samples
from tests.kit import PASSWORD

from .conftest import log_in, make_contract


def attach(page, name: str, content: bytes) -> None:
    page.get_by_label("Files", exact=True).set_input_files(
        files=[{"name": name, "mimeType": "application/octet-stream", "buffer": content}]
    )
    page.get_by_role("button", name="Upload files").click()


class TestClientEvidence:
    def test_refuses_hostile_files_and_renames_a_disguised_pdf(self, page):
        dispute = kit.filed(make_contract())
        log_in(page, "carol", PASSWORD)
        page.goto(dispute.get_absolute_url())

        attach(page, "evil.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>")
        expect(
            page.locator(".field").filter(has=page.get_by_label("Files", exact=True))
        ).to_contain_text(samples.WEB_PAGE)
        attach(page, "bomb.zip", samples.zip_bomb())
        files = page.locator(".field").filter(has=page.get_by_label("Files", exact=True))
        expect(files).to_contain_text("The ZIP archive expands to 1 GB")
        expect(page.get_by_text("The ZIP archive expands to 1 GB")).to_have_count(1)  # once
        expect(page.get_by_label("Files", exact=True)).to_be_focused()
        assert not Evidence.objects.filter(uploaded_by__username="carol").exists()

        attach(page, "setup.exe", samples.PDF_BYTES)
        expect(page.get_by_role("status")).to_contain_text("Added 1 file to the dispute")
        evidence = Evidence.objects.get(uploaded_by__username="carol")
        with page.expect_download() as download:
            page.get_by_test_id("evidence").get_by_role("link", name="setup.exe").click()

        assert download.value.suggested_filename == f"evidence-{evidence.pk}.pdf"
        assert page.header_problems == []
