"""The status and deadline card that See Dispute and See Request poll for (htmx)."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEntry
from disputes import services
from tests import kit
from tests.kit import browser_for

pytestmark = pytest.mark.django_db


def polled_url(page: str) -> str:
    """The URL the page's live card polls, as the browser would request it."""
    return re.search(r'id="live-card" hx-get="([^"]+)"', page).group(1).replace("&amp;", "&")


class TestDisputeLive:
    def test_the_page_polls_its_card_and_nothing_changed_says_nothing(self, contract, freelancer):
        dispute = kit.filed(contract)
        browser = browser_for(freelancer)
        page = browser.get(dispute.get_absolute_url()).content.decode()

        response = browser.get(polled_url(page), HTTP_HX_REQUEST="true")

        card = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="deadline"' in card
        assert 'id="dispute-status" hx-swap-oob="true"' in card
        assert 'data-testid="live-moved"' not in card

    def test_says_the_dispute_moved_on_when_the_client_answered(self, contract, freelancer):
        dispute = kit.filed(contract)
        browser = browser_for(freelancer)
        page = browser.get(dispute.get_absolute_url()).content.decode()
        services.dispute_accept(dispute=dispute, actor=contract.client, now=timezone.now())

        card = browser.get(polled_url(page), HTTP_HX_REQUEST="true").content.decode()

        assert ">Closed</span>" in card
        assert 'data-testid="live-moved"' in card
        assert 'data-testid="deadline"' not in card
        assert "the client accepted the dispute" in card

    def test_is_not_found_for_anyone_else(self, contract, stranger):
        dispute = kit.filed(contract)

        response = browser_for(stranger).get(reverse("disputes:dispute-live", args=[dispute.pk]))

        assert response.status_code == 404

    def test_records_no_staff_read(self, contract, agent):
        dispute = kit.declined(contract)
        reads = AuditEntry.objects.count()

        response = browser_for(agent).get(reverse("disputes:dispute-live", args=[dispute.pk]))

        assert response.status_code == 200
        assert AuditEntry.objects.count() == reads


class TestRefundRequestLive:
    def test_says_the_request_moved_on_when_the_freelancer_filed(self, contract, client_user):
        refund = kit.ended(contract)
        browser = browser_for(client_user)
        page = browser.get(refund.get_absolute_url()).content.decode()
        kit.file_dispute(refund)

        card = browser.get(polled_url(page), HTTP_HX_REQUEST="true").content.decode()

        assert 'id="refund-status" hx-swap-oob="true"' in card
        assert "Disputed by the freelancer" in card
        assert 'data-testid="live-moved"' in card
