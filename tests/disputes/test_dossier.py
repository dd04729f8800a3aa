"""The case dossier: a ZIP of the whole dispute whose manifest's hashes match its files; the
party's copy never holds an internal note, the staff's does; it carries the frozen terms.
Through every door: the API, See Dispute and the staff case pages."""

import hashlib
import io
import json
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import MilestoneTerms
from contracts.terms import canonical_json
from core.models import AuditEntry
from disputes import services
from disputes.models import Evidence
from tests.kit import (
    api_as,
    browser_for,
    end_contract,
    file_dispute,
    pdf,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]

NOTE = "Client sounded evasive on the phone."


@pytest.fixture
def dispute(contract, agent):
    """In mediation with a file from each party, an internal note and a message."""
    now = timezone.now()
    request = end_contract(contract, now=now)
    filed = file_dispute(request, evidence=[pdf("my delivery report.pdf")], now=now)
    services.evidence_add(
        dispute=filed,
        actor=contract.client,
        file=pdf("what I got.pdf", b"%PDF-1.4\nother\n%%EOF\n"),
        now=now,
    )
    services.dispute_decline(
        dispute=filed, actor=contract.client, reason="Only half was delivered.", now=now
    )
    services.dispute_assign(dispute=filed, staff=agent, role="agent", now=now)
    services.dispute_note_add(dispute=filed, author=agent, text=NOTE, now=now)
    services.dispute_message_post(
        dispute=filed, author=contract.client, text="The export is missing.", now=now
    )
    filed.refresh_from_db()
    return filed


def unzip(response) -> zipfile.ZipFile:
    assert response.status_code == 200, getattr(response, "content", b"")[:500]
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith("attachment")
    body = b"".join(response.streaming_content)
    return zipfile.ZipFile(io.BytesIO(body))


def manifest_of(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("manifest.json"))


def everything(archive: zipfile.ZipFile) -> bytes:
    return b"".join(archive.read(name) for name in archive.namelist())


class TestTheApi:
    def test_the_manifests_hashes_equal_the_evidence_files(self, dispute, client_user):
        archive = unzip(api_as(client_user).get(url(dispute, "dossier/")))
        manifest = manifest_of(archive)

        assert len(manifest["evidence"]) == 2
        for item in manifest["evidence"]:
            data = archive.read(item["path"])
            assert hashlib.sha256(data).hexdigest() == item["sha256"]
            assert len(data) == item["size"]
            stored = Evidence.objects.get(pk=item["id"])
            assert item["sha256"] == stored.sha256
            assert item["name"] == stored.name
        assert set(archive.namelist()) == {
            "manifest.json",
            "timeline.html",
            *(item["path"] for item in manifest["evidence"]),
        }

    def test_files_are_under_generated_names_never_the_uploaders(self, dispute, freelancer):
        archive = unzip(api_as(freelancer).get(url(dispute, "dossier/")))

        for item in manifest_of(archive)["evidence"]:
            assert item["path"] == f"evidence/evidence-{item['id']}.pdf"
            assert item["name"] not in item["path"]

    def test_the_manifest_carries_the_dispute_as_get_shows_it_and_the_timeline(
        self, dispute, client_user
    ):
        api = api_as(client_user)

        manifest = manifest_of(unzip(api.get(url(dispute, "dossier/"))))

        assert manifest["dispute"] == api.get(url(dispute)).json()
        assert manifest["timeline"] == api.get(url(dispute, "timeline/")).json()["results"]
        assert [m["text"] for m in manifest["messages"]] == ["The export is missing."]

    def test_a_partys_dossier_has_no_internal_note(self, dispute, client_user, freelancer):
        for party in (client_user, freelancer):
            archive = unzip(api_as(party).get(url(dispute, "dossier/")))

            assert all(e["kind"] != "INTERNAL_NOTE" for e in manifest_of(archive)["timeline"])
            assert NOTE.encode() not in everything(archive)

    def test_the_staff_dossier_has_the_internal_notes(self, dispute, agent):
        archive = unzip(api_as(agent).get(url(dispute, "dossier/")))

        notes = [e for e in manifest_of(archive)["timeline"] if e["kind"] == "INTERNAL_NOTE"]
        assert [e["note"] for e in notes] == [NOTE]
        assert NOTE.encode() in archive.read("timeline.html")

    def test_it_carries_the_frozen_terms_and_their_hash(self, dispute, client_user):
        manifest = manifest_of(unzip(api_as(client_user).get(url(dispute, "dossier/"))))

        terms = manifest["milestone_terms"]
        assert terms == MilestoneTerms.objects.get(milestone=dispute.milestone).as_shown()
        assert set(terms) == {
            "title",
            "description",
            "amount",
            "currency",
            "due_date",
            "frozen_at",
            "sha256",
        }
        fields = {k: v for k, v in terms.items() if k != "sha256"}
        assert hashlib.sha256(canonical_json(fields)).hexdigest() == terms["sha256"]
        assert terms["amount"] == "500.00"
        assert terms["sha256"].encode() in unzip(
            api_as(client_user).get(url(dispute, "dossier/"))
        ).read("timeline.html")

    def test_staff_outside_the_thread_get_no_messages(self, dispute, arbitrator):
        manifest = manifest_of(unzip(api_as(arbitrator).get(url(dispute, "dossier/"))))

        assert manifest["messages"] is None
        assert b"The export is missing." not in json.dumps(manifest).encode()

    def test_a_stranger_gets_404(self, dispute, stranger):
        response = api_as(stranger).get(url(dispute, "dossier/"))

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"

    def test_a_staff_download_is_audited_with_its_notes_messages_and_files(self, dispute, agent):
        api_as(agent).get(url(dispute, "dossier/"))

        reads = AuditEntry.objects.filter(kind=AuditEntry.Kind.READ, user=agent)
        assert sorted(reads.values_list("name", flat=True)) == [
            "case",
            "evidence",
            "evidence",
            "internal_notes",
            "messages",
        ]
        assert all("its dossier" in r.description for r in reads)

    def test_a_partys_download_is_not_audited(self, dispute, client_user):
        api_as(client_user).get(url(dispute, "dossier/"))

        assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.READ).exists()

    def test_the_schema_documents_a_zip(self):
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()

        operation = schema["paths"]["/api/v1/disputes/{id}/dossier/"]["get"]
        assert "application/zip" in operation["responses"]["200"]["content"]


class TestTheBrowser:
    def test_see_dispute_has_the_button_and_the_party_downloads(self, dispute, client_user):
        browser = browser_for(client_user)
        link = reverse("disputes:dispute-dossier", kwargs={"pk": dispute.pk})

        page = browser.get(dispute.get_absolute_url())
        archive = unzip(browser.get(link))

        assert link.encode() in page.content
        assert NOTE.encode() not in everything(archive)
        assert manifest_of(archive)["milestone_terms"]["sha256"]

    def test_the_staff_case_page_has_the_button_and_the_agent_downloads(self, dispute, agent):
        browser = browser_for(agent)
        link = reverse("disputes:dispute-dossier", kwargs={"pk": dispute.pk})

        page = browser.get(reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk]))
        archive = unzip(browser.get(link))

        assert link.encode() in page.content
        assert NOTE.encode() in archive.read("timeline.html")
        assert AuditEntry.objects.filter(
            kind=AuditEntry.Kind.READ, user=agent, description__contains="a dossier download"
        ).exists()

    def test_a_stranger_gets_404(self, dispute, stranger):
        response = browser_for(stranger).get(
            reverse("disputes:dispute-dossier", kwargs={"pk": dispute.pk})
        )

        assert response.status_code == 404
