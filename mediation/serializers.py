"""The JSON shapes of mediation: the proposed resolution, the parties' answers, agents' input.

As in ``disputes.serializers``: output serializers only read, amounts leave as strings with their
currency's places, times in UTC with "Z"; input serializers check the shape of a request only and
``mediation.services`` (or ``disputes.services`` for extensions and notes) keeps the rules.

Importing this module (``MediationConfig.ready``) fills the dispute object's ``resolution``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.serializers import AMOUNT_HELP, AmountInputField, MoneyField, UTCDateTimeField
from disputes.models import Dispute
from disputes.serializers import register_dispute_field

from . import api_selectors
from .models import Resolution

# --- Output ---------------------------------------------------------------------------------


class ResolutionAnswersSerializer(serializers.Serializer):
    freelancer = serializers.ChoiceField(
        choices=Resolution.Answer.choices,
        allow_null=True,
        read_only=True,
        help_text="The freelancer's answer, or null while they have not answered.",
    )
    client = serializers.ChoiceField(
        choices=Resolution.Answer.choices,
        allow_null=True,
        read_only=True,
        help_text="The client's answer, or null while they have not answered.",
    )


class ResolutionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    to_freelancer = MoneyField(help_text="Proposed to the freelancer from the disputed escrow R.")
    to_client = MoneyField(help_text="Proposed to be refunded to the client; the two add up to R.")
    currency = serializers.CharField(read_only=True)
    rationale = serializers.CharField(read_only=True, help_text="The agent's written reasons.")
    status = serializers.ChoiceField(
        choices=Resolution.Status.choices,
        read_only=True,
        help_text=(
            "PROPOSED while the parties answer; ACCEPTED by both (the money moved as proposed); "
            "REJECTED by either or EXPIRED unanswered (a Notice of Non-Resolution followed); "
            "BINDING: a small claim the agent decided (the money moved at once)."
        ),
    )
    proposed_at = UTCDateTimeField()
    binding = serializers.SerializerMethodField(
        help_text="True for a small-claims decision, which needs no answer and cannot be appealed."
    )
    answers = serializers.SerializerMethodField()

    def get_binding(self, resolution: Resolution) -> bool:
        return resolution.status == Resolution.Status.BINDING

    @extend_schema_field(ResolutionAnswersSerializer)
    def get_answers(self, resolution: Resolution) -> dict:
        return {party: resolution.answer_of(party) or None for party in ("freelancer", "client")}


def _resolutions(disputes: Sequence[Dispute]) -> dict[int, dict]:
    latest = api_selectors.resolutions_latest(disputes=disputes)
    return {pk: ResolutionSerializer(resolution).data for pk, resolution in latest.items()}


register_dispute_field("resolution", provide=_resolutions, serializer=ResolutionSerializer)


# --- Input ----------------------------------------------------------------------------------


class ResolutionProposeSerializer(serializers.Serializer):
    to_freelancer = AmountInputField(
        help_text=f"The freelancer's share of the disputed escrow R, 0 or more. {AMOUNT_HELP}"
    )
    to_client = AmountInputField(
        help_text=f"The client's share: to_freelancer + to_client = R to the cent. {AMOUNT_HELP}"
    )
    rationale = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: why this split, for both parties to read.",
    )


class DisputeExtendSerializer(serializers.Serializer):
    due_at = serializers.DateTimeField(
        default_timezone=dt.UTC,
        help_text="The new deadline, later than the current one (ISO 8601; without an offset, "
        "UTC).",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: why the deadline moves; both parties read it on the timeline.",
    )


class DisputeNoteSerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: the note. Staff read it; the parties never do.",
    )
