"""/api/v1/webhook-endpoints/ and /api/v1/events/: each user's own, in the API's one shape."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from core.api import Pagination
from disputes import services as disputes
from tests import kit
from webhooks.models import Delivery, Event, WebhookEndpoint

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db

ENDPOINTS = "/api/v1/webhook-endpoints/"
EVENTS = "/api/v1/events/"
HOOK = "https://hooks.example.com/in"


def create(api, url=HOOK, events=("*",), **more):
    return api.post(ENDPOINTS, {"url": url, "events": list(events), **more}, format="json")


class TestEndpoints:
    def test_creating_shows_the_secret_once(self, as_freelancer):
        response = create(as_freelancer, events=["dispute.*", "offer.accepted"], description="CRM")

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) == {"id", "url", "events", "description", "status", "secret", "created_at"}
        assert (body["url"], body["events"], body["status"]) == (
            HOOK,
            ["dispute.*", "offer.accepted"],
            "ENABLED",
        )
        assert body["secret"].startswith("whsec_")
        assert 24 <= len(base64.b64decode(body["secret"].removeprefix("whsec_"))) <= 32
        listed = as_freelancer.get(ENDPOINTS).json()
        assert listed["count"] == 1
        assert "secret" not in listed["results"][0]
        assert "secret" not in as_freelancer.get(f"{ENDPOINTS}{body['id']}/").json()

    def test_changing_and_removing_an_endpoint(self, as_freelancer):
        pk = create(as_freelancer).json()["id"]

        changed = as_freelancer.patch(
            f"{ENDPOINTS}{pk}/",
            {"events": ["milestone.*"], "status": "DISABLED", "description": "Off for now"},
            format="json",
        )
        assert changed.status_code == 200, changed.content
        assert (changed.json()["events"], changed.json()["status"]) == (["milestone.*"], "DISABLED")
        again = as_freelancer.patch(f"{ENDPOINTS}{pk}/", {"status": "ENABLED"}, format="json")
        assert again.json()["status"] == "ENABLED"

        assert as_freelancer.delete(f"{ENDPOINTS}{pk}/").status_code == 204
        kit.assert_error(as_freelancer.get(f"{ENDPOINTS}{pk}/"), 404, "not_found")

    def test_rotating_shows_the_new_secret(self, as_freelancer):
        created = create(as_freelancer).json()

        rotated = as_freelancer.post(f"{ENDPOINTS}{created['id']}/rotate-secret/")

        assert rotated.status_code == 200, rotated.content
        assert rotated.json()["secret"].startswith("whsec_")
        assert rotated.json()["secret"] != created["secret"]
        endpoint = WebhookEndpoint.objects.get()
        assert endpoint.previous_secret == created["secret"]
        assert endpoint.previous_secret_expires_at - timezone.now() > timedelta(hours=23)

    @pytest.mark.parametrize(
        "method,path",
        [
            ("get", ""),
            ("patch", ""),
            ("delete", ""),
            ("post", "rotate-secret/"),
            ("get", "deliveries/"),
        ],
    )
    def test_another_users_endpoint_is_not_found(self, as_freelancer, as_client, method, path):
        pk = create(as_freelancer).json()["id"]

        response = getattr(as_client, method)(f"{ENDPOINTS}{pk}/{path}", {}, format="json")

        kit.assert_error(response, 404, "not_found")
        assert as_client.get(ENDPOINTS).json()["count"] == 0
        assert WebhookEndpoint.objects.get().status == "ENABLED"

    @pytest.mark.parametrize(
        "events,field",
        [
            ([], "events"),
            (["dispute.opened"], "events"),
            (["nothing.*"], "events"),
            ("*", "events"),
        ],
    )
    def test_unknown_event_types_are_refused(self, as_freelancer, events, field):
        response = as_freelancer.post(ENDPOINTS, {"url": HOOK, "events": events}, format="json")

        error = kit.assert_error(response, 400, response.json()["error"]["code"])
        assert field in error["fields"]
        assert not WebhookEndpoint.objects.exists()

    @pytest.mark.parametrize(
        "url",
        [
            "ftp://hooks.example.com/in",
            "https://user:pass@hooks.example.com/in",
            "https:///in",
            "not a url",
        ],
    )
    def test_a_malformed_url_is_refused(self, as_freelancer, url):
        error = kit.assert_error(create(as_freelancer, url=url), 400, "invalid_url")

        assert list(error["fields"]) == ["url"]

    def test_anonymous_callers_are_not_authenticated(self, db):
        kit.assert_error(kit.api_as(None).get(ENDPOINTS), 401, "not_authenticated")
        kit.assert_error(kit.api_as(None).get(EVENTS), 401, "not_authenticated")

    def test_a_suspended_account_registers_nothing(self, freelancer):
        response = create(kit.suspended(freelancer))

        kit.assert_error(response, 403, "account_suspended")


class TestTargets:
    @pytest.mark.parametrize(
        "url,resolved",
        [
            ("http://127.0.0.1:8000/in", None),
            ("http://10.1.2.3/in", None),
            ("http://192.168.0.10/in", None),
            ("http://169.254.169.254/latest/meta-data", None),
            ("http://[::1]/in", None),
            ("http://[::ffff:10.0.0.1]/in", None),
            ("http://224.0.0.1/in", None),
            ("http://0.0.0.0/in", None),
            ("http://hooks.example.com/in", ["10.20.30.40"]),
            ("http://localhost/in", ["127.0.0.1", "::1"]),
            ("http://hooks.example.com/in", ["93.184.216.34", "fe80::1"]),
        ],
    )
    def test_private_targets_are_refused_when_not_allowed(self, dns, as_freelancer, url, resolved):
        if resolved:
            dns[url.split("/")[2]] = resolved

        error = kit.assert_error(create(as_freelancer, url=url), 400, "invalid_url")

        assert "public addresses only" in error["fields"]["url"][0]
        assert not WebhookEndpoint.objects.exists()

    def test_a_public_target_is_accepted_when_private_ones_are_refused(self, dns, as_freelancer):
        dns["hooks.example.com"] = ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]

        assert create(as_freelancer, url="http://hooks.example.com/in").status_code == 201

    def test_a_name_that_does_not_resolve_is_refused(self, dns, as_freelancer, monkeypatch):
        from webhooks import targets

        def nothing(host, port):
            raise OSError("Name or service not known")

        monkeypatch.setattr(targets, "addresses_of", nothing)

        kit.assert_error(create(as_freelancer), 400, "invalid_url")

    def test_private_targets_are_allowed_when_the_setting_is_on(self, as_freelancer, settings):
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True

        assert create(as_freelancer, url="http://127.0.0.1:9000/in").status_code == 201

    @override_settings(WEBHOOK_HTTPS_ONLY=True)
    def test_only_https_when_https_is_required(self, as_freelancer):
        error = kit.assert_error(
            create(as_freelancer, url="http://hooks.example.com/"), 400, "invalid_url"
        )

        assert "https://" in error["message"]
        assert create(as_freelancer, url=HOOK).status_code == 201

    def test_changing_the_url_checks_it_again(self, dns, as_freelancer):
        dns["hooks.example.com"] = ["93.184.216.34"]
        pk = create(as_freelancer, url="http://hooks.example.com/in").json()["id"]

        response = as_freelancer.patch(
            f"{ENDPOINTS}{pk}/", {"url": "http://10.0.0.1/in"}, format="json"
        )

        kit.assert_error(response, 400, "invalid_url")
        assert WebhookEndpoint.objects.get().url == "http://hooks.example.com/in"


class TestEventStream:
    def test_the_stream_is_the_users_own_oldest_first(
        self, contract, as_client, as_freelancer, as_stranger, client_user
    ):
        kit.filed(contract)  # created, funded, released 200, ended, refund asked, disputed

        client_events = as_client.get(EVENTS).json()
        freelancer_events = as_freelancer.get(EVENTS).json()

        types = [e["type"] for e in client_events["results"]]
        assert types == [
            "contract.created",
            "milestone.funded",
            "milestone.released",
            "contract.ended",
            "refund_request.opened",
            "dispute.submitted",
        ]
        assert [e["type"] for e in freelancer_events["results"]] == types
        ids = [e["id"] for e in client_events["results"]]
        assert ids == sorted(ids)
        assert not set(ids) & {e["id"] for e in freelancer_events["results"]}
        assert as_stranger.get(EVENTS).json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
        assert set(Event.objects.values_list("user_id", flat=True)) == {
            contract.client_id,
            contract.freelancer_id,
        }

    def test_after_pages_through_the_stream(self, contract, as_client, monkeypatch):
        monkeypatch.setattr(Pagination, "page_size", 2)
        kit.filed(contract)
        every = [e["id"] for e in as_client.get(EVENTS, {"page_size": 100}).json()["results"]]

        seen, after = [], 0
        while True:
            page = as_client.get(EVENTS, {"after": after}).json()["results"]
            if not page:
                break
            seen += [e["id"] for e in page]
            after = page[-1]["id"]

        assert seen == every
        assert as_client.get(EVENTS, {"after": every[-1]}).json()["results"] == []

    def test_type_filters_by_type_and_namespace(self, contract, as_client):
        kit.filed(contract)

        def types(query):
            return [e["type"] for e in as_client.get(EVENTS, {"type": query}).json()["results"]]

        assert types("milestone.*") == ["milestone.funded", "milestone.released"]
        assert types("contract.ended,dispute.*") == ["contract.ended", "dispute.submitted"]
        assert len(types("*")) == 6
        error = kit.assert_error(
            as_client.get(EVENTS, {"type": "dispute.opened"}), 400, "invalid_events"
        )
        assert "type" in error["fields"]

    def test_a_bad_after_is_refused(self, as_client):
        kit.assert_error(as_client.get(EVENTS, {"after": "x"}), 400, "invalid_after")

    def test_data_is_the_object_as_the_recipient_reads_it(self, contract, as_client, as_freelancer):
        dispute = kit.filed(contract)

        def submitted(api):
            (event,) = api.get(EVENTS, {"type": "dispute.submitted"}).json()["results"]
            return event["data"]

        # Blind feedback: the client's copy has none, the freelancer's has it.
        assert submitted(as_client)["feedback"] is None
        assert submitted(as_freelancer)["feedback"]["rating"] is not None
        assert submitted(as_client) == as_client.get(kit.url(dispute)).json()
        assert submitted(as_freelancer) == as_freelancer.get(kit.url(dispute)).json()

    def test_a_draft_is_the_freelancers_own(self, contract, as_client, as_freelancer, agent):
        request = kit.ended(contract)
        draft = kit.draft(request)
        disputes.dispute_extend(
            dispute=draft,
            actor=agent,
            due_at=request.response_due_at + timedelta(days=2),
            reason="Travelling.",
            now=timezone.now(),
        )

        def extended(api):
            return api.get(EVENTS, {"type": "deadline.extended"}).json()["results"]

        assert [e["data"]["id"] for e in extended(as_freelancer)] == [draft.pk]
        assert extended(as_client) == []

    def test_events_a_sweep_left_without_data_are_built_when_read(self, contract, as_client):
        from core import deadlines

        request = kit.refund_request(contract, now=timezone.now() - timedelta(days=8))
        deadlines.sweep("disputes.refund_requests_expire", now=timezone.now())
        assert Event.objects.filter(type="refund_request.expired", data__isnull=True).count() == 2

        (expired,) = as_client.get(EVENTS, {"type": "refund_request.expired"}).json()["results"]

        assert expired["data"] == as_client.get(f"/api/v1/refund-requests/{request.pk}/").json()
        assert expired["data"]["status"] == "EXPIRED"
        assert Event.objects.filter(type="refund_request.expired", data__isnull=True).count() == 1


class TestRedeliver:
    def test_redelivering_sends_the_event_again_to_the_matching_endpoints(
        self, receiver, contract, freelancer, as_freelancer, django_capture_on_commit_callbacks
    ):
        funded = endpoint_for(freelancer, receiver.url, events=["milestone.funded"])
        endpoint_for(freelancer, receiver.url + "/other", events=["dispute.*"])
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)
        event = Event.objects.get(user=freelancer, type="milestone.funded")

        with django_capture_on_commit_callbacks(execute=True):
            response = as_freelancer.post(f"{EVENTS}{event.pk}/redeliver/")

        assert response.status_code == 202, response.content
        assert response.json() == {"event": event.pk, "endpoints": [funded.pk]}
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(event.pk)] * 2
        log = as_freelancer.get(f"{ENDPOINTS}{funded.pk}/deliveries/").json()["results"]
        assert [(a["event"], a["attempt"], a["status_code"]) for a in log] == [
            (event.pk, 1, 200),
            (event.pk, 1, 200),
        ]
        assert set(log[0]) == {
            "event",
            "attempt",
            "status_code",
            "error",
            "duration_ms",
            "at",
            "next_attempt_at",
        }

    def test_with_no_matching_endpoint_it_is_a_conflict(self, contract, freelancer, as_freelancer):
        kit.funded(contract)
        event = Event.objects.get(user=freelancer, type="milestone.funded")

        kit.assert_error(as_freelancer.post(f"{EVENTS}{event.pk}/redeliver/"), 409, "no_endpoint")

    def test_another_users_event_is_not_found(self, contract, client_user, as_freelancer):
        kit.funded(contract)
        theirs = Event.objects.get(user=client_user, type="milestone.funded")
        endpoint_for(contract.freelancer, HOOK)

        kit.assert_error(as_freelancer.post(f"{EVENTS}{theirs.pk}/redeliver/"), 404, "not_found")
        assert not Delivery.objects.exists()
