"""The JSON shapes of settlement offers (``API.md``: ``/disputes/{id}/offers/``, ``/offers/…``).

The output names the contract's fields: ``by`` is the party who made the offer, ``expires_at``
when it lapses unless answered. Input serializers check the shape only; the rules (whose action,
which state, the exact split) live in ``offers.services``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import AmountInputField, DeadlineSerializer, MoneyField, UTCDateTimeField

from .models import Offer


class OfferSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    dispute = serializers.IntegerField(source="dispute_id", read_only=True)
    by = serializers.ChoiceField(
        choices=Offer.Party.choices, read_only=True, help_text="The party who made the offer."
    )
    currency = serializers.CharField(read_only=True, help_text="ISO 4217, the dispute's.")
    to_freelancer = MoneyField(help_text="What the freelancer receives of the disputed escrow R.")
    to_client = MoneyField(help_text="What is refunded to the client; the two add up to R.")
    message = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(
        choices=Offer.Status.choices,
        read_only=True,
        help_text="OPEN until the other party accepts or declines it, the maker withdraws it "
        "(or replaces it with a new offer), or it lapses: at expires_at, or when the dispute "
        "closes another way.",
    )
    created_at = UTCDateTimeField()
    expires_at = UTCDateTimeField(
        source="response_due_at", help_text="When the offer lapses unless it is answered."
    )
    answered_at = UTCDateTimeField(
        allow_null=True, help_text="When it was accepted, declined or withdrawn; else null."
    )
    reason = serializers.CharField(
        read_only=True, help_text="The reason given with a decline or a withdrawal, if any."
    )
    deadline = serializers.SerializerMethodField(
        help_text="While OPEN: kind offer_response, the other party's move, due at expires_at; "
        "else null."
    )

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, offer: Offer):
        if offer.status != Offer.Status.OPEN:
            return None
        return {
            "kind": "offer_response",
            "due_at": UTCDateTimeField().to_representation(offer.response_due_at),
            "party": offer.other,
        }


class OfferCreateSerializer(serializers.Serializer):
    to_freelancer = AmountInputField()
    to_client = AmountInputField()
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Optional: a word to the other party.",
    )


class OfferAnswerSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=5000,
        help_text="Optional: why.",
    )
