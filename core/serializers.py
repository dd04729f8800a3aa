"""Serializer fields every app's API shares: times in UTC, amounts as exact strings, deadlines.

Amounts leave as strings with exactly their currency's places ("250.00", JPY "250") and arrive
as strings that the services parse (``core.money.parse_amount``), so a float never reaches the
money code. Times leave as ISO 8601 in UTC with "Z", whatever the viewer's time zone.
"""

from __future__ import annotations

import datetime as dt
from operator import attrgetter

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .money import format_amount

AMOUNT_EXAMPLE = "250.00"
AMOUNT_HELP = (
    'A decimal string with at most the currency\'s minor units, for example "250.00" '
    '(JPY: "250"). JSON numbers are refused.'
)


class UTCDateTimeField(serializers.DateTimeField):
    """A time in UTC ("2026-11-30T09:00:00Z"), never in the viewer's own time zone."""

    def __init__(self, **kwargs):
        kwargs.setdefault("default_timezone", dt.UTC)
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$", "example": "250.00"}
)
class MoneyField(serializers.Field):
    """An amount read from the object, formatted with the places of the object's currency."""

    def __init__(self, *, currency_source: str = "currency", **kwargs):
        self.currency_getter = attrgetter(currency_source)
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def get_attribute(self, instance):
        return super().get_attribute(instance), self.currency_getter(instance)

    def to_representation(self, value):
        amount, currency = value
        return format_amount(amount, currency)


@extend_schema_field(
    {"type": "string", "format": "decimal", "pattern": r"^\d+(\.\d+)?$", "example": AMOUNT_EXAMPLE}
)
class AmountInputField(serializers.Field):
    """An amount sent by the client: a string, passed as is to the service that parses it.

    The currency (and so the number of places allowed) is the contract's, which only the service
    knows; here we refuse what is not a string at all, so a float never reaches the money code.
    """

    default_error_messages = {
        "not_a_string": 'Send the amount as a decimal string, for example "250.00".',
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", AMOUNT_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(
                self.error_messages["not_a_string"], code="invalid_amount"
            )
        return data

    def to_representation(self, value):  # pragma: no cover - input only
        return value


# Whose move a deadline is; "parties" when each of the two parties has its own move.
DEADLINE_PARTIES = ["freelancer", "client", "agent", "arbitrator", "parties"]


class DeadlineSerializer(serializers.Serializer):
    kind = serializers.CharField(read_only=True)
    due_at = UTCDateTimeField()
    party = serializers.ChoiceField(
        choices=DEADLINE_PARTIES,
        read_only=True,
        help_text='Whose move it is; "parties" when each of the two parties has its own move '
        "(answering a proposed resolution, paying the arbitration fee).",
    )
