"""A broker that cannot be reached delays the webhooks of a committed change; it never loses
them, and never fails the change (``core.outbox``, ``webhooks.relay``)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.outbox import EMAILS
from core import outbox
from disputes.models import RefundRequest
from tests import kit
from webhooks.models import Delivery, DeliveryAttempt
from webhooks.relay import WEBHOOKS

from .conftest import endpoint_for

# Real commits: the on-commit enqueue runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def test_a_partys_api_action_answers_as_usual_and_one_relay_pass_sends_its_events_once(
    receiver, contract, as_freelancer, caplog
):
    endpoint = endpoint_for(contract.client, receiver.url, events=["refund_request.*"])
    request = kit.end_contract(contract)
    receiver.received.clear()
    mail.outbox.clear()

    with kit.broker_unreachable():
        response = as_freelancer.post(f"/api/v1/refund-requests/{request.pk}/accept/")

    assert response.status_code == 200, response.content
    assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.ACCEPTED
    assert "webhooks.deliveries: could not enqueue the delivery of 1 row(s)" in caplog.text
    owed = list(WEBHOOKS.owed())
    assert [d.event.type for d in owed] == ["refund_request.accepted"]
    assert EMAILS.owed().filter(kind="refunded").exists()
    assert receiver.received == [] and mail.outbox == []

    later = timezone.now() + WEBHOOKS.grace()
    first = outbox.redeliver(WEBHOOKS, now=later)
    second = outbox.redeliver(WEBHOOKS, now=later)

    assert (first.delivered, second.claimed) == (1, 0)
    (got,) = [Webhook(endpoint.secret).verify(r.body, r.headers) for r in receiver.received]
    assert (got["type"], got["data"]["status"]) == ("refund_request.accepted", "ACCEPTED")
    assert list(WEBHOOKS.owed()) == []
    assert DeliveryAttempt.objects.filter(delivery__in=owed).count() == 1
    assert Delivery.objects.get(pk=owed[0].pk).delivered_at == later
