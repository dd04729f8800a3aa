"""The Webhooks page of the account, without JavaScript, and the admin's lists."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import kit
from webhooks.models import Delivery, WebhookEndpoint

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db

PAGE = reverse("webhooks:page")
HOOK = "https://hooks.example.com/in"


def add(browser, url=HOOK, events="*", description=""):
    return browser.post(
        reverse("webhooks:add"), {"url": url, "events": events, "description": description}
    )


class TestThePage:
    def test_sends_anonymous_visitors_to_log_in(self, client):
        response = client.get(PAGE)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_the_header_links_to_it(self, freelancer):
        html = kit.browser_for(freelancer).get(reverse("accounts:inbox")).content.decode()

        assert f'href="{PAGE}"' in html

    def test_adding_an_endpoint_shows_its_secret_once(self, freelancer):
        browser = kit.browser_for(freelancer)

        response = add(browser, events="dispute.*, offer.accepted", description="Our CRM")

        assert response.status_code == 302
        endpoint = WebhookEndpoint.objects.get(owner=freelancer)
        assert endpoint.events == ["dispute.*", "offer.accepted"]
        shown = browser.get(response["Location"])
        assert endpoint.secret in shown.content.decode()
        assert "Endpoint added" in " ".join(kit.shown_messages(shown))
        again = browser.get(PAGE).content.decode()
        assert endpoint.secret not in again
        assert HOOK in again and "Our CRM" in again

    def test_a_bad_endpoint_is_refused_with_the_reason(self, freelancer, dns):
        dns["hooks.example.com"] = ["10.0.0.3"]
        browser = kit.browser_for(freelancer)

        response = add(browser)
        bad_types = add(browser, events="dispute.opened")

        assert response.status_code == 400
        assert "public addresses only" in response.content.decode()
        assert bad_types.status_code == 400
        assert "Not an event type: dispute.opened" in bad_types.content.decode()
        assert not WebhookEndpoint.objects.exists()

    def test_rotating_shows_the_new_secret_once(self, freelancer):
        endpoint = endpoint_for(freelancer, HOOK)
        browser = kit.browser_for(freelancer)

        response = browser.post(reverse("webhooks:rotate", args=[endpoint.pk]))

        endpoint.refresh_from_db()
        shown = browser.get(response["Location"])
        assert endpoint.secret in shown.content.decode()
        assert "24 hours" in " ".join(kit.shown_messages(shown))
        assert endpoint.previous_secret not in shown.content.decode()

    def test_disabling_enabling_and_deleting(self, freelancer):
        endpoint = endpoint_for(freelancer, HOOK)
        browser = kit.browser_for(freelancer)
        status_url = reverse("webhooks:status", args=[endpoint.pk])

        disabled = kit.followed_messages(browser, browser.post(status_url, {"status": "DISABLED"}))
        endpoint.refresh_from_db()
        assert endpoint.status == "DISABLED"
        assert any("is disabled" in m for m in disabled)

        browser.post(status_url, {"status": "ENABLED"})
        endpoint.refresh_from_db()
        assert endpoint.status == "ENABLED"

        removed = kit.followed_messages(
            browser, browser.post(reverse("webhooks:delete", args=[endpoint.pk]))
        )
        assert any("Endpoint removed" in m for m in removed)
        assert not WebhookEndpoint.objects.exists()

    def test_another_users_endpoint_is_not_found(self, freelancer, client_user):
        endpoint = endpoint_for(freelancer, HOOK)
        browser = kit.browser_for(client_user)

        for name, data in (("rotate", {}), ("status", {"status": "DISABLED"}), ("delete", {})):
            response = browser.post(reverse(f"webhooks:{name}", args=[endpoint.pk]), data)
            assert response.status_code == 404
        assert HOOK not in browser.get(PAGE).content.decode()
        endpoint.refresh_from_db()
        assert endpoint.status == "ENABLED"

    def test_recent_deliveries_are_listed(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        endpoint_for(freelancer, receiver.url)
        receiver.answer(500)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)

        html = kit.browser_for(freelancer).get(PAGE).content.decode()

        assert "milestone.funded" in html
        assert "HTTP 500" in html

    def test_changes_only_by_post(self, freelancer):
        endpoint = endpoint_for(freelancer, HOOK)
        browser = kit.browser_for(freelancer)

        assert browser.get(reverse("webhooks:delete", args=[endpoint.pk])).status_code == 405
        assert WebhookEndpoint.objects.exists()


class TestTheAdmin:
    @pytest.fixture
    def staff_client(self, client):
        client.force_login(kit.UserFactory(username="root", is_staff=True, is_superuser=True))
        return client

    def test_lists_endpoints_deliveries_and_events_but_never_a_secret(
        self, staff_client, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        endpoint = endpoint_for(freelancer, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)
        delivery = Delivery.objects.get()

        pages = [
            reverse("admin:webhooks_webhookendpoint_changelist"),
            reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
            reverse("admin:webhooks_delivery_changelist"),
            reverse("admin:webhooks_delivery_change", args=[delivery.pk]),
            reverse("admin:webhooks_event_changelist"),
        ]
        for url in pages:
            response = staff_client.get(url)
            assert response.status_code == 200, url
            assert endpoint.secret not in response.content.decode(), url
            assert "whsec_" not in response.content.decode(), url

    def test_deliveries_are_read_only(self, staff_client, receiver, contract, freelancer):
        endpoint_for(freelancer, receiver.url)
        kit.funded(contract)
        delivery = Delivery.objects.get()

        response = staff_client.post(
            reverse("admin:webhooks_delivery_change", args=[delivery.pk]), {"attempts": 9}
        )

        assert response.status_code == 403
        delivery.refresh_from_db()
        assert delivery.attempts == 0
