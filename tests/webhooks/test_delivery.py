"""Webhooks reach a real receiver on 127.0.0.1, signed so a Standard Webhooks library verifies
them, retried on the schedule, and never sent where they may not go."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from accounts.models import Notification
from arbitration import services as arbitration
from contracts import services as contracts
from core import outbox
from disputes import services as disputes
from tests import kit
from webhooks import relay, services
from webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

from .conftest import endpoint_for

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DISPUTE_PATH = [
    "contract.created",
    "milestone.funded",
    "milestone.released",  # the 200.00 the client paid on ending
    "contract.ended",
    "refund_request.opened",
    "dispute.submitted",
    "dispute.declined",
    "resolution.proposed",
    "resolution.rejected",
    "notice.issued",
    "arbitration.fee_paid",
    "arbitration.fee_paid",
    "arbitration.case_opened",
    "evidence_request.opened",
    "deadline.extended",
    "evidence_request.closed",
    "award.issued",
    "dispute.closed",
]


def verified(receiver, secret: str) -> list[dict]:
    """Every body the receiver got, verified with the ``standardwebhooks`` package."""
    hook = Webhook(secret)
    return [hook.verify(r.body, r.headers) for r in receiver.received]


def attempts(endpoint) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.objects.filter(endpoint=endpoint).order_by("pk"))


class TestADisputePath:
    def test_the_receiver_gets_each_event_verified_in_order(
        self,
        receiver,
        client_user,
        freelancer,
        agent,
        arbitrator,
        django_capture_on_commit_callbacks,
    ):
        endpoint = endpoint_for(freelancer, receiver.url)
        now = timezone.now()

        with django_capture_on_commit_callbacks(execute=True):
            contract = kit.ContractFactory(client=client_user, freelancer=freelancer)
            dispute = kit.dispute_at("case", contract, agent=agent, now=now)
            kit.evidence_request(dispute, arbitrator, now=now)
            disputes.dispute_extend(
                dispute=dispute,
                actor=agent,
                due_at=now + timedelta(days=5),
                reason="The freelancer is travelling.",
                now=now,
            )
            arbitration.award_issue(
                dispute=dispute,
                arbitrator=arbitrator,
                to_freelancer="200.00",
                to_client="100.00",
                reasons="The work was mostly delivered.",
                now=now,
            )

        events = verified(receiver, endpoint.secret)
        assert [e["type"] for e in events] == DISPUTE_PATH
        ids = [e["id"] for e in events]
        assert ids == sorted(ids)
        assert [r.headers["webhook-id"] for r in receiver.received] == [str(i) for i in ids]
        assert set(events[-1]) == {"id", "type", "created_at", "data"}
        closed = events[-1]["data"]
        assert (closed["id"], closed["status"], closed["outcome"]) == (
            dispute.pk,
            "CLOSED",
            "AWARDED",
        )
        assert closed == kit.api_as(freelancer).get(kit.url(dispute)).json()
        assert all(a.status_code == 200 and a.next_attempt_at is None for a in attempts(endpoint))

    def test_a_forged_or_altered_delivery_does_not_verify(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        endpoint = endpoint_for(freelancer, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)
        (got,) = receiver.received

        with pytest.raises(WebhookVerificationError):
            Webhook(services.new_secret()).verify(got.body, got.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(endpoint.secret).verify(got.body.replace(b"500.00", b"900.00"), got.headers)


class TestRetries:
    def test_a_500_is_retried_after_5_seconds_and_then_delivered(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        receiver.answer(500)
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(freelancer, receiver.url)
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=T0)
            assert len(receiver.received) == 1

            clock.shift(timedelta(seconds=4))
            relay.relay_due(now=timezone.now())
            assert len(receiver.received) == 1  # not yet: due 5 s after the failure

            clock.shift(timedelta(seconds=1))
            relay.relay_due(now=timezone.now())
            bodies = verified(receiver, endpoint.secret)

        first, second = attempts(endpoint)
        assert (first.attempt, first.status_code, first.next_attempt_at) == (
            1,
            500,
            T0 + timedelta(seconds=5),
        )
        assert "HTTP 500" in first.error
        assert (second.attempt, second.status_code, second.error, second.next_attempt_at) == (
            2,
            200,
            "",
            None,
        )
        assert bodies[0] == bodies[1]  # the same event, the same webhook-id: deduplicate on it
        assert (
            receiver.received[0].headers["webhook-id"] == receiver.received[1].headers["webhook-id"]
        )
        delivery = Delivery.objects.get()
        assert (delivery.attempts, delivery.delivered_at) == (2, T0 + timedelta(seconds=5))

    def test_the_5_second_retry_is_queued_with_its_countdown_the_later_ones_wait_for_the_relay(
        self, receiver, contract, freelancer, monkeypatch, django_capture_on_commit_callbacks
    ):
        queued = []
        monkeypatch.setattr(
            outbox,
            "enqueue",
            lambda kind, ids, countdown=None: (
                kind is relay.WEBHOOKS and queued.append((ids, countdown))
            ),
        )
        receiver.answer(500, 500)
        with time_machine.travel(T0, tick=False) as clock:
            endpoint_for(freelancer, receiver.url)
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=T0)
            delivery = Delivery.objects.get()
            assert queued == [([delivery.pk], None)]  # the change's own task

            outbox.deliver_now(relay.WEBHOOKS, ids=[delivery.pk], now=T0)
            assert queued[1:] == [([delivery.pk], timedelta(seconds=5))]

            clock.shift(timedelta(seconds=5))
            relay.relay_due(now=timezone.now())  # fails again: 5 minutes is the relay's

        assert queued[2:] == []
        delivery.refresh_from_db()
        assert (delivery.attempts, delivery.error) == (2, "HTTP 500 Internal Server Error")
        assert delivery.next_attempt_at == T0 + timedelta(seconds=5, minutes=5)

    def test_failures_follow_the_schedule_and_then_give_up(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        receiver.answer(*[503] * 8)
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(freelancer, receiver.url)
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=T0)
            for wait in relay.RETRY_AFTER:
                clock.shift(wait)
                relay.relay_due(now=timezone.now())
            clock.shift(timedelta(days=1))
            relay.relay_due(now=timezone.now())

        tried = attempts(endpoint)
        assert [a.attempt for a in tried] == [1, 2, 3, 4, 5, 6, 7, 8]
        gaps = [b.at - a.at for a, b in zip(tried, tried[1:], strict=False)]
        assert gaps == [
            timedelta(seconds=5),
            timedelta(minutes=5),
            timedelta(minutes=30),
            timedelta(hours=2),
            timedelta(hours=5),
            timedelta(hours=10),
            timedelta(hours=10),
        ]
        assert tried[-1].next_attempt_at is None
        assert Delivery.objects.get().next_attempt_at is None
        endpoint.refresh_from_db()
        assert endpoint.status == WebhookEndpoint.Status.ENABLED  # 27.5 hours, not 5 days

    def test_an_endpoint_failing_for_5_days_is_disabled_and_its_owner_told(
        self, receiver, contract, client_user, django_capture_on_commit_callbacks
    ):
        receiver.answer(*[500] * 100)
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(client_user, receiver.url, events=["milestone.funded"])
            for day in range(6):
                clock.move_to(T0 + timedelta(days=day))
                with django_capture_on_commit_callbacks(execute=True):
                    kit.funded(contract, now=timezone.now())
                endpoint.refresh_from_db()
                if day < 5:
                    assert endpoint.status == WebhookEndpoint.Status.ENABLED, day

        assert endpoint.status == WebhookEndpoint.Status.DISABLED
        assert endpoint.failing_since == T0
        assert endpoint.disabled_at == T0 + timedelta(days=5)
        told = Notification.objects.get(user=client_user, kind="webhook_endpoint_disabled")
        assert receiver.url in told.body
        assert not Delivery.objects.filter(endpoint=endpoint, next_attempt_at__isnull=False)
        sent = len(receiver.received)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)
        assert len(receiver.received) == sent  # disabled: nothing more is sent

    def test_a_success_ends_the_failing_streak(
        self, receiver, contract, client_user, django_capture_on_commit_callbacks
    ):
        receiver.answer(500)
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(client_user, receiver.url)
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=T0)
            endpoint.refresh_from_db()
            assert endpoint.failing_since == T0
            clock.shift(timedelta(seconds=5))
            relay.relay_due(now=timezone.now())

        endpoint.refresh_from_db()
        assert endpoint.failing_since is None


class TestRotation:
    def test_both_secrets_sign_for_24_hours_then_only_the_new_one(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(freelancer, receiver.url)
            old = endpoint.secret
            new = services.endpoint_rotate_secret(
                endpoint=endpoint, actor=freelancer, now=T0
            ).secret

            clock.shift(timedelta(hours=23, minutes=59))
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=timezone.now())
            during = receiver.received[-1]
            assert len(during.headers["webhook-signature"].split(" ")) == 2
            assert Webhook(old).verify(during.body, during.headers)["type"] == "milestone.funded"
            assert Webhook(new).verify(during.body, during.headers)["type"] == "milestone.funded"

            clock.shift(timedelta(minutes=1))
            with django_capture_on_commit_callbacks(execute=True):
                kit.funded(contract, now=timezone.now())
            after = receiver.received[-1]
            assert len(after.headers["webhook-signature"].split(" ")) == 1
            assert Webhook(new).verify(after.body, after.headers)["type"] == "milestone.funded"
            with pytest.raises(WebhookVerificationError):
                Webhook(old).verify(after.body, after.headers)

    def test_a_second_rotation_drops_the_oldest_secret(self, freelancer, receiver):
        endpoint = endpoint_for(freelancer, receiver.url)
        first = endpoint.secret
        second = services.endpoint_rotate_secret(
            endpoint=endpoint, actor=freelancer, now=timezone.now()
        ).secret
        endpoint = services.endpoint_rotate_secret(
            endpoint=endpoint, actor=freelancer, now=timezone.now()
        )

        signing = relay.signing_secrets(endpoint, now=timezone.now())
        assert signing == [endpoint.secret, second]
        assert first not in signing


class TestTargets:
    def test_a_name_that_resolves_to_a_private_address_at_send_time_is_not_contacted(
        self, dns, contract, freelancer, monkeypatch, django_capture_on_commit_callbacks
    ):
        dns["hooks.example.com"] = ["93.184.216.34"]
        endpoint = endpoint_for(freelancer, "http://hooks.example.com/in")
        dns["hooks.example.com"] = ["10.0.0.7"]  # rebound since registration

        def no_connection(*args, **kwargs):
            raise AssertionError("a connection was opened")

        monkeypatch.setattr("socket.create_connection", no_connection)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)

        (attempt,) = attempts(endpoint)
        assert attempt.status_code is None
        assert attempt.error.startswith("Refused: hooks.example.com resolves to 10.0.0.7")
        assert attempt.next_attempt_at is not None  # retried: the name may answer well later

    def test_a_name_with_a_private_address_beside_a_public_one_is_refused(
        self, dns, contract, freelancer, django_capture_on_commit_callbacks
    ):
        dns["hooks.example.com"] = ["93.184.216.34"]
        endpoint = endpoint_for(freelancer, "http://hooks.example.com/in")
        dns["hooks.example.com"] = ["93.184.216.34", "127.0.0.1"]

        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)

        (attempt,) = attempts(endpoint)
        assert "127.0.0.1" in attempt.error

    def test_the_connection_goes_to_the_checked_address_with_the_url_host(
        self, dns, settings, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        port = receiver.url.split(":")[2].split("/")[0]
        dns["hooks.example.com"] = ["93.184.216.34"]
        endpoint_for(freelancer, f"http://hooks.example.com:{port}/hooks?k=1")
        # The receiver is on loopback: allow it for the send, and answer with it.
        settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
        dns["hooks.example.com"] = ["127.0.0.1"]

        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)

        (got,) = receiver.received
        assert got.headers["Host"] == f"hooks.example.com:{port}"

    def test_a_redirect_is_not_followed(
        self, receiver, contract, freelancer, django_capture_on_commit_callbacks
    ):
        receiver.answer(302)
        endpoint = endpoint_for(freelancer, receiver.url)

        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)

        (attempt,) = attempts(endpoint)
        assert attempt.status_code == 302
        assert "redirects are not followed" in attempt.error
        assert len(receiver.received) == 1


class TestNothingIsLost:
    def test_a_broker_that_is_down_fails_nothing_and_the_relay_sends_later(
        self, receiver, contract, freelancer, monkeypatch, django_capture_on_commit_callbacks
    ):
        from webhooks import tasks

        def broker_down(*args, **kwargs):
            raise OSError("Connection refused")

        monkeypatch.setattr(tasks.deliver, "apply_async", broker_down)
        endpoint = endpoint_for(freelancer, receiver.url)
        with django_capture_on_commit_callbacks(execute=True):
            kit.funded(contract)  # the action commits; the enqueue fails quietly
        assert receiver.received == []
        monkeypatch.undo()

        assert Delivery.objects.get().next_attempt_at is not None  # owed
        with time_machine.travel(timezone.now() + relay.WEBHOOKS.grace(), tick=False):
            relay.relay_due(now=timezone.now())

        assert [json.loads(r.body)["type"] for r in receiver.received] == ["milestone.funded"]
        assert attempts(endpoint)[0].status_code == 200

    def test_a_delivery_whose_worker_died_is_sent_once_its_lease_ends(
        self, receiver, contract, freelancer
    ):
        with time_machine.travel(T0, tick=False) as clock:
            endpoint = endpoint_for(freelancer, receiver.url)
            kit.funded(contract, now=T0)  # on_commit never runs here: as if the task were lost
            delivery = Delivery.objects.get(endpoint=endpoint)
            grace = relay.WEBHOOKS.grace()
            clock.shift(grace)  # its task was lost: the relay claims it once the grace is over
            assert outbox.claim(relay.WEBHOOKS, now=timezone.now()) == {delivery.pk: 1}
            # … and then its worker died

            clock.shift(grace - timedelta(microseconds=1))
            relay.relay_due(now=timezone.now())
            assert receiver.received == []  # still its lost sender's

            clock.shift(timedelta(microseconds=1))  # the lease is over
            relay.relay_due(now=timezone.now())
            relay.relay_due(now=timezone.now())

        assert len(receiver.received) == 1
        assert [a.attempt for a in attempts(endpoint)] == [2]  # the lost claim counted
        assert Delivery.objects.get().delivered_at == T0 + 2 * grace

    def test_a_sweep_batch_events_get_their_data_before_they_are_sent(
        self, receiver, contract, freelancer, client_user, django_capture_on_commit_callbacks
    ):
        from core import deadlines

        endpoint = endpoint_for(freelancer, receiver.url, events=["refund_request.*"])
        request = kit.refund_request(contract, now=timezone.now() - timedelta(days=8))
        with django_capture_on_commit_callbacks(execute=True):
            deadlines.sweep("disputes.refund_requests_expire", now=timezone.now())

        expired = verified(receiver, endpoint.secret)[-1]
        assert expired["type"] == "refund_request.expired"
        assert (
            expired["data"]
            == kit.api_as(freelancer).get(f"/api/v1/refund-requests/{request.pk}/").json()
        )
        assert not Event.objects.filter(data__isnull=True, user=freelancer)


def test_a_disabled_endpoint_gets_nothing(receiver, contract, freelancer):
    endpoint = endpoint_for(freelancer, receiver.url)
    services.endpoint_update(
        endpoint=endpoint, actor=freelancer, changes={"status": "DISABLED"}, now=timezone.now()
    )

    kit.funded(contract)

    assert not Delivery.objects.filter(endpoint=endpoint).exists()


def test_a_pending_delivery_of_an_endpoint_disabled_meanwhile_is_not_sent(
    receiver, contract, freelancer
):
    endpoint = endpoint_for(freelancer, receiver.url)
    kit.funded(contract)
    services.endpoint_update(
        endpoint=endpoint, actor=freelancer, changes={"status": "DISABLED"}, now=timezone.now()
    )

    ids = list(Delivery.objects.values_list("pk", flat=True))
    outbox.deliver_now(relay.WEBHOOKS, ids=ids, now=timezone.now())
    with time_machine.travel(timezone.now() + timedelta(days=1)):
        relay.relay_due(now=timezone.now())

    assert receiver.received == []
    assert Delivery.objects.get().next_attempt_at is None


def test_only_the_types_an_endpoint_asks_for_are_sent(
    receiver, contract, client_user, freelancer, django_capture_on_commit_callbacks
):
    endpoint_for(client_user, receiver.url, events=["refund_request.*", "contract.ended"])

    with django_capture_on_commit_callbacks(execute=True):
        milestone = kit.funded(contract)
        contracts.milestone_submit(
            milestone=milestone, actor=freelancer, message="Done.", now=timezone.now()
        )
        disputes.contract_end(
            contract=contract,
            actor=client_user,
            payments={milestone.pk: "500.00"},
            now=timezone.now(),
        )

    assert receiver.types == ["contract.ended"]  # paid in full: no refund request


def test_a_second_endpoint_gets_its_own_delivery(
    receiver, contract, client_user, django_capture_on_commit_callbacks
):
    endpoint_for(client_user, receiver.url, events=["milestone.*"])
    endpoint_for(client_user, receiver.url + "/again", events=["milestone.funded"])

    with django_capture_on_commit_callbacks(execute=True):
        kit.funded(contract)

    assert receiver.types == ["milestone.funded", "milestone.funded"]
    assert Delivery.objects.count() == 2


def test_an_endpoint_removed_while_its_delivery_is_sent_is_no_error(receiver, contract, freelancer):
    endpoint = endpoint_for(freelancer, receiver.url)
    kit.funded(contract)
    delivery = Delivery.objects.get()
    assert outbox.claim(relay.WEBHOOKS, now=timezone.now(), ids=[delivery.pk])
    delivery.refresh_from_db()
    services.endpoint_delete(endpoint=endpoint, actor=freelancer)

    answer = relay.sending.post(receiver.url, body=b"{}", headers={})
    now = timezone.now()

    assert relay.record_attempt(delivery, answer, at=now, now=now) == (
        "The endpoint was removed.",
        True,
    )
    assert not DeliveryAttempt.objects.exists()
    assert relay.deliver([delivery.pk], now=now) == outbox.Outcome()  # gone with it
