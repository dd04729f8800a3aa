"""See Dispute and ``GET /api/v1/disputes/{id}/`` are kept under each party's stamp
(``core.stamps``): asked again while nothing changed they read nothing of the case, and every
change to it, by either party, by staff or by a deadline, shows at the next request."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import AuditEntry
from disputes.services import dispute_message_post
from mediation.services import resolution_propose
from tests.kit import api_as, browser_for, dispute_at

pytestmark = [pytest.mark.django_db, pytest.mark.kept_lists]


def reads_the_case(queries) -> bool:
    return any("disputes_dispute" in query["sql"] for query in queries.captured_queries)


def page(response) -> str:
    """The page's own part, its CSRF tokens (masked afresh for each response) left out."""
    html = response.content.decode()
    part = html[html.index('<nav class="breadcrumbs"') : html.index("</main>")]
    return re.sub(r'name="csrfmiddlewaretoken" value="\w+"', "", part)


class TestSeeDispute:
    def test_asked_again_reads_nothing_of_the_case(self, contract):
        dispute = dispute_at("declined", contract)
        browser = browser_for(contract.client)
        first = page(browser.get(dispute.get_absolute_url()))

        with CaptureQueriesContext(connection) as again:
            second = page(browser.get(dispute.get_absolute_url()))

        assert not reads_the_case(again)
        assert second == first

    def test_each_browser_session_gets_its_own_csrf_token(self, contract):
        dispute = dispute_at("declined", contract)
        first, second = browser_for(contract.client), browser_for(contract.client)
        first.get(dispute.get_absolute_url())
        second.handler.enforce_csrf_checks = True  # as a browser is checked

        html = second.get(dispute.get_absolute_url()).content.decode()
        marker = 'name="csrfmiddlewaretoken" value="'
        sent = html[html.index(marker) + len(marker) :].split('"', 1)[0]
        forged = second.post(
            f"{dispute.get_absolute_url()}messages/",
            {"text": "Forged.", "csrfmiddlewaretoken": "x" * 64},
        )
        response = second.post(
            f"{dispute.get_absolute_url()}messages/",
            {"text": "Sent from my second browser.", "csrfmiddlewaretoken": sent},
        )

        assert "csrf-slot" not in html
        assert forged.status_code == 403
        assert response.status_code == 302
        assert (
            "Sent from my second browser."
            in second.get(dispute.get_absolute_url()).content.decode()
        )

    def test_the_other_partys_message_shows_at_once(self, contract):
        dispute = dispute_at("declined", contract)
        browser = browser_for(contract.client)
        assert (
            "A word from the freelancer"
            not in browser.get(dispute.get_absolute_url()).content.decode()
        )

        dispute_message_post(
            dispute=dispute,
            author=contract.freelancer,
            text="A word from the freelancer",
            now=timezone.now(),
        )

        assert (
            "A word from the freelancer" in browser.get(dispute.get_absolute_url()).content.decode()
        )

    def test_the_mediators_resolution_shows_at_once(self, contract, agent):
        dispute = dispute_at("declined", contract, agent=agent)
        browser, api = browser_for(contract.freelancer), api_as(contract.freelancer)
        before = browser.get(dispute.get_absolute_url()).content.decode()
        assert api.get(f"/api/v1/disputes/{dispute.pk}/").json()["status"] == "IN_MEDIATION"

        resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=timezone.now(),
        )

        assert "Answer the proposed resolution" not in before
        assert 'data-testid="dispute-status">Resolution proposed' in (
            browser.get(dispute.get_absolute_url()).content.decode()
        )
        assert api.get(f"/api/v1/disputes/{dispute.pk}/").json()["status"] == "RESOLUTION_PROPOSED"

    def test_staff_reads_are_each_on_the_record(self, contract, agent):
        dispute = dispute_at("declined", contract, agent=agent)
        browser, api = browser_for(agent), api_as(agent)

        for _ in range(2):
            assert browser.get(dispute.get_absolute_url()).status_code == 200
            assert api.get(f"/api/v1/disputes/{dispute.pk}/").status_code == 200

        assert AuditEntry.objects.filter(user=agent, kind="READ").count() == 4

    def test_a_stranger_still_gets_a_404(self, contract, stranger):
        dispute = dispute_at("declined", contract)
        browser_for(contract.client).get(dispute.get_absolute_url())

        assert browser_for(stranger).get(dispute.get_absolute_url()).status_code == 404
        assert api_as(stranger).get(f"/api/v1/disputes/{dispute.pk}/").status_code == 404


class TestDisputeAPI:
    def test_asked_again_reads_nothing_of_the_case(self, contract):
        dispute = dispute_at("filed", contract)
        api = api_as(contract.client)
        first = api.get(f"/api/v1/disputes/{dispute.pk}/").json()

        with CaptureQueriesContext(connection) as again:
            second = api.get(f"/api/v1/disputes/{dispute.pk}/").json()

        assert not reads_the_case(again)
        assert second == first and first["status"] == "AWAITING_CLIENT"

    def test_the_clients_answer_shows_to_the_freelancer_at_once(self, contract):
        dispute = dispute_at("filed", contract)
        freelancer = api_as(contract.freelancer)
        assert (
            freelancer.get(f"/api/v1/disputes/{dispute.pk}/").json()["status"] == "AWAITING_CLIENT"
        )

        response = api_as(contract.client).post(f"/api/v1/disputes/{dispute.pk}/accept/")

        assert response.status_code == 200
        assert freelancer.get(f"/api/v1/disputes/{dispute.pk}/").json()["status"] == "CLOSED"
