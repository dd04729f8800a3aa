"""Staff reads of a case go to the audit log — the case pages, the admin, the API, its internal
notes and its files — with who, when and from where; a party reading their own case does not."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from contracts import services as contracts
from core.models import AuditEntry
from disputes import services
from disputes.models import Dispute, Evidence
from tests.kit import (
    ContractFactory,
    api_as,
    browser_for,
    end_contract,
    file_dispute,
    pdf,
    submitted,
    support,
    support_case,
    url,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_storage_per_test")]

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = START + timedelta(hours=5)
FROM = {"REMOTE_ADDR": "198.51.100.23", "HTTP_USER_AGENT": "Mozilla/5.0 (staff desk)"}
Kind = AuditEntry.Kind


def reads(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=Kind.READ, **filters).order_by("pk"))


def case_page(dispute) -> str:
    return reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])


@pytest.fixture
def dispute(contract):
    """In mediation, with the freelancer's report among the evidence."""
    request = end_contract(contract, now=START)
    filed = file_dispute(request, evidence=[pdf("delivery-report.pdf")], now=START)
    return services.dispute_decline(
        dispute=filed, actor=contract.client, reason="Only half was delivered.", now=START
    )


@pytest.fixture
def noted(dispute, agent):
    """The agent wrote an internal note on the case."""
    services.dispute_note_add(dispute=dispute, author=agent, text="Client was rude.", now=START)
    return dispute


@pytest.fixture
def clock():
    with time_machine.travel(LATER, tick=False):
        yield


class TestStaffReadsAreRecorded:
    def test_the_agents_case_page_with_user_place_and_time(self, dispute, agent, clock):
        response = browser_for(agent).get(case_page(dispute), **FROM)

        assert response.status_code == 200
        (read,) = reads()
        assert read.name == "case"
        assert read.user == agent
        assert read.at == LATER
        assert read.ip_address == "198.51.100.23"
        assert read.user_agent == "Mozilla/5.0 (staff desk)"
        assert read.content_type == ContentType.objects.get_for_model(Dispute)
        assert read.object_id == str(dispute.pk)
        assert read.description == f"{dispute} — the mediation queue's case page"

    def test_the_case_pages_internal_notes_are_a_read_of_their_own(self, noted, agent):
        browser_for(agent).get(case_page(noted), **FROM)

        assert [r.name for r in reads()] == ["case", "internal_notes"]
        assert reads(name="internal_notes")[0].description == (
            f"1 internal note of {noted} — the mediation queue's case page"
        )

    def test_the_api_get_of_a_dispute(self, dispute, agent, clock):
        response = api_as(agent).get(url(dispute), **FROM)

        assert response.status_code == 200
        (read,) = reads()
        assert (read.name, read.user, read.at, read.ip_address) == (
            "case",
            agent,
            LATER,
            "198.51.100.23",
        )
        assert read.description == f"{dispute} — the API"

    def test_the_api_timeline_and_its_internal_notes(self, noted, agent):
        response = api_as(agent).get(url(noted, "timeline/"), **FROM)

        assert response.status_code == 200
        assert [r.name for r in reads()] == ["case", "internal_notes"]
        assert all(r.object_id == str(noted.pk) for r in reads())

    def test_a_timeline_without_notes_records_the_case_only(self, dispute, agent):
        api_as(agent).get(url(dispute, "timeline/"))

        assert [r.name for r in reads()] == ["case"]

    def test_an_evidence_download(self, dispute, agent, clock):
        evidence = Evidence.objects.get(dispute=dispute)

        response = browser_for(agent).get(evidence.get_absolute_url(), **FROM)

        assert response.status_code == 200
        (read,) = reads()
        assert read.name == "evidence"
        assert read.user == agent
        assert read.at == LATER
        assert read.ip_address == "198.51.100.23"
        assert read.content_type == ContentType.objects.get_for_model(Evidence)
        assert read.object_id == str(evidence.pk)
        assert read.description == f"“delivery-report.pdf” of {dispute} — a download"

    def test_an_evidence_download_through_the_api(self, dispute, agent):
        evidence = Evidence.objects.get(dispute=dispute)

        api_as(agent).get(f"/api/v1/evidence/{evidence.pk}/download/")

        assert [(r.name, r.object_id) for r in reads()] == [("evidence", str(evidence.pk))]

    def test_the_admin_page_of_a_dispute_and_its_notes(self, noted, agent):
        response = browser_for(agent).get(
            reverse("admin:disputes_dispute_change", args=[noted.pk]), **FROM
        )

        assert response.status_code == 200
        assert [(r.name, r.description) for r in reads()] == [
            ("case", f"{noted} — the admin"),
            ("internal_notes", f"1 internal note of {noted} — the admin"),
        ]

    def test_the_admin_page_of_a_refund_request(self, dispute, agent):
        request = dispute.refund_request

        browser_for(agent).get(reverse("admin:disputes_refundrequest_change", args=[request.pk]))

        assert [(r.name, r.object_id) for r in reads()] == [("case", str(request.pk))]

    def test_the_dispute_page_read_by_staff(self, dispute, agent):
        browser_for(agent).get(dispute.get_absolute_url())

        assert [(r.name, r.description) for r in reads()] == [
            ("case", f"{dispute} — the dispute page")
        ]

    def test_a_support_case_read_by_support(self, contract):
        case = support_case(submitted(contract, now=START), now=START)
        staff = support("sue-support")

        browser_for(staff).get(case.get_absolute_url())
        api_as(staff).get(f"/api/v1/support-cases/{case.pk}/")
        browser_for(staff).get(reverse("admin:disputes_supportcase_change", args=[case.pk]))

        assert [r.description for r in reads()] == [
            f"{case} — the support case page",
            f"{case} — the API",
            f"{case} — the admin",
        ]

    def test_a_list_of_disputes_read_by_staff_is_one_entry(self, dispute, agent):
        api_as(agent).get("/api/v1/disputes/?page_size=20")

        (read,) = reads()
        assert read.name == "case_list"
        assert read.description == "the API: /api/v1/disputes/?page_size=20"

    def test_submitted_work_downloaded_by_staff(self, contract, agent):
        milestone = contracts.milestone_create(
            contract=contract, actor=contract.client, title="Logo", amount="100.00", now=START
        )
        contracts.milestone_fund(milestone=milestone, actor=contract.client, now=START)
        submission = contracts.milestone_submit(
            milestone=milestone,
            actor=contract.freelancer,
            message="Here it is.",
            files=[pdf("logo.pdf")],
            now=START,
        )
        stored = submission.files.get()

        browser_for(agent).get(reverse("contracts:submission-file", args=[stored.pk]))
        browser_for(contract.client).get(reverse("contracts:submission-file", args=[stored.pk]))

        (read,) = reads()
        assert (read.name, read.user, read.object_id) == ("submitted_work", agent, str(stored.pk))


class TestPartiesReadingTheirOwnCaseAreNotRecorded:
    def test_the_parties_pages_api_timeline_and_files(self, noted, client_user, freelancer):
        evidence = Evidence.objects.get(dispute=noted)
        for user in (client_user, freelancer):
            api = api_as(user)
            assert api.get(url(noted)).status_code == 200
            assert api.get(url(noted, "timeline/")).status_code == 200
            assert api.get("/api/v1/disputes/").status_code == 200
            assert browser_for(user).get(noted.get_absolute_url()).status_code == 200
            assert browser_for(user).get(evidence.get_absolute_url()).status_code == 200

        assert reads() == []

    def test_staff_who_are_a_party_read_their_own_case_unrecorded(self, agent):
        own = ContractFactory(freelancer=agent)
        request = end_contract(own, now=START)
        dispute = services.dispute_decline(
            dispute=file_dispute(request, now=START),
            actor=own.client,
            reason="No.",
            now=START,
        )

        conflict = browser_for(agent).get(case_page(dispute))
        as_party = api_as(agent).get(url(dispute))

        assert conflict.status_code == 403
        assert as_party.status_code == 200
        assert reads() == []
