"""The JSON shapes of events, webhook endpoints and their delivery logs.

An event here is exactly what a webhook delivery posts (``webhooks.relay.body_of``): the
``/events/`` stream and the webhooks carry the same thing.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import UTCDateTimeField

from . import catalog
from .models import WebhookEndpoint

DATA_HELP = (
    "The object the event is about, exactly as its own GET returns it to you (a contract, "
    "milestone, refund request, dispute or, later, an offer: see each type). Built in the same "
    "transaction as the change; for the changes a deadline sweep makes, right after the sweep's "
    "batch commits."
)
TYPES_HELP = "; ".join(f"`{name}`: {text}" for name, text in catalog.TYPES.items())


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        read_only=True, help_text="Also the `webhook-id` header of its deliveries, as a string."
    )
    type = serializers.ChoiceField(choices=catalog.CHOICES, read_only=True, help_text=TYPES_HELP)
    created_at = UTCDateTimeField(help_text="When the change happened.")
    data = serializers.SerializerMethodField(help_text=DATA_HELP)

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_data(self, event) -> dict:
        return event.data if event.data is not None else {}


class WebhookEndpointSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = serializers.CharField(read_only=True)
    events = serializers.ListField(
        child=serializers.CharField(), read_only=True, help_text=catalog.PATTERN_HELP
    )
    description = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(
        choices=WebhookEndpoint.Status.choices,
        read_only=True,
        help_text="DISABLED by its owner, or after every delivery failed for 5 days (the owner "
        "is notified); a disabled endpoint gets nothing, and what it still owed is not sent.",
    )
    created_at = UTCDateTimeField()


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text='"whsec_" and the base64 of the signing key. Shown only when the endpoint is '
        "created and when its secret is rotated: keep it.",
    )


URL_HELP = (
    "Where to POST events. https:// only in production; never a loopback, private or "
    "link-local address unless the server allows private targets. Redirects are not followed."
)


class WebhookEndpointCreateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, help_text=URL_HELP)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), help_text=catalog.PATTERN_HELP
    )
    description = serializers.CharField(
        max_length=500, required=False, allow_blank=True, default=""
    )


class WebhookEndpointUpdateSerializer(serializers.Serializer):
    url = serializers.CharField(max_length=2000, required=False, help_text=URL_HELP)
    events = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, help_text=catalog.PATTERN_HELP
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True)
    status = serializers.ChoiceField(
        choices=WebhookEndpoint.Status.choices,
        required=False,
        help_text="ENABLED turns a disabled endpoint on again (its failure count starts "
        "afresh); DISABLED turns it off.",
    )


class DeliveryAttemptSerializer(serializers.Serializer):
    event = serializers.IntegerField(source="delivery.event_id", read_only=True)
    attempt = serializers.IntegerField(
        read_only=True, help_text="1 for the first try of a delivery, 2 for its first retry…"
    )
    status_code = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The HTTP status answered; null for none."
    )
    error = serializers.CharField(
        read_only=True,
        help_text="Why it failed (non-2xx, timeout, refused target); empty on success.",
    )
    duration_ms = serializers.IntegerField(read_only=True)
    at = UTCDateTimeField()
    next_attempt_at = UTCDateTimeField(
        allow_null=True,
        help_text="When this delivery is tried again; null once it succeeded or gave up. "
        "Retries follow 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after a failure.",
    )


class RedeliverySerializer(serializers.Serializer):
    event = serializers.IntegerField()
    endpoints = serializers.ListField(
        child=serializers.IntegerField(), help_text="The endpoints the event is sent to again."
    )
