"""The JSON shapes of arbitration: the window and fees, the case, evidence requests, the award.

As in ``disputes.serializers``: output serializers only read, amounts leave as strings with their
currency's places, times in UTC with "Z"; input serializers check the shape of a request only and
``arbitration.services`` keeps the rules.

Importing this module (``ArbitrationConfig.ready``) fills the dispute object's ``arbitration``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.money import format_amount
from core.serializers import AMOUNT_HELP, AmountInputField, MoneyField, UTCDateTimeField
from disputes.models import Dispute
from disputes.serializers import register_dispute_field

from . import api_selectors, services
from .api_selectors import Arbitration
from .models import ArbitrationCase, EvidenceRequest, Party

# --- Output ---------------------------------------------------------------------------------

# The model's statuses, described for the schema (their plain labels match the support case's,
# and the schema would give both the one name).
EVIDENCE_REQUEST_STATUSES = [
    (EvidenceRequest.Status.OPEN, "Open: the party may upload until due_at"),
    (EvidenceRequest.Status.CLOSED, "Closed: its due date passed, or the award was issued"),
]


class EvidenceRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    party = serializers.ChoiceField(
        choices=Party.choices, read_only=True, help_text="The party asked for evidence."
    )
    message = serializers.CharField(read_only=True, help_text="What the arbitrator asks for.")
    due_at = UTCDateTimeField(
        help_text="Until then the party may upload with POST /disputes/{id}/evidence/."
    )
    status = serializers.ChoiceField(
        choices=EVIDENCE_REQUEST_STATUSES, read_only=True, help_text="OPEN or CLOSED."
    )
    requested_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(allow_null=True)


class FeeStatusSerializer(serializers.Serializer):
    paid = serializers.BooleanField(read_only=True)
    paid_at = UTCDateTimeField(allow_null=True)
    refunded = serializers.BooleanField(
        read_only=True,
        help_text="True when the fee went back to the party (only that party paid).",
    )


class FeesSerializer(serializers.Serializer):
    freelancer = FeeStatusSerializer(read_only=True)
    client = FeeStatusSerializer(read_only=True)


class CaseSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ArbitrationCase.Status.choices, read_only=True)
    opened_at = UTCDateTimeField()
    arbitrator = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="The username of the arbitrator who took the case, or null until one does.",
    )


class AwardSerializer(serializers.Serializer):
    to_freelancer = MoneyField()
    to_client = MoneyField()
    reasons = serializers.CharField(read_only=True, help_text="The arbitrator's written reasons.")
    issued_at = UTCDateTimeField()


class ArbitrationSerializer(serializers.Serializer):
    """Reads an ``api_selectors.Arbitration``."""

    window_due_at = serializers.SerializerMethodField(
        help_text="While ARBITRATION_WINDOW: when the window closes (the dispute's deadline); "
        "null once it has closed."
    )
    fee = serializers.SerializerMethodField(
        help_text="Each party's share of the arbitration fee (what was paid, once paid)."
    )
    currency = serializers.CharField(source="dispute.refund_request.currency", read_only=True)
    fees = serializers.SerializerMethodField(
        help_text="Whether each party has paid: both parties see both."
    )
    case = serializers.SerializerMethodField(help_text="Null until both parties paid.")
    evidence_requests = EvidenceRequestSerializer(
        source="open_evidence_requests",
        many=True,
        read_only=True,
        help_text="The arbitrator's open requests for evidence, earliest due first.",
    )
    award = serializers.SerializerMethodField(help_text="The final award, or null.")

    @extend_schema_field(UTCDateTimeField(allow_null=True))
    def get_window_due_at(self, arbitration: Arbitration) -> str | None:
        dispute = arbitration.dispute
        if dispute.status != Dispute.Status.ARBITRATION_WINDOW:
            return None
        return UTCDateTimeField().to_representation(dispute.response_due_at)

    @extend_schema_field(MoneyField())
    def get_fee(self, arbitration: Arbitration) -> str:
        request = arbitration.dispute.refund_request
        paid = next(iter(arbitration.fees.values()), None)
        amount = (
            paid.amount
            if paid is not None
            else services.arbitration_fee(amount=request.amount, currency=request.currency)
        )
        return format_amount(amount, request.currency)

    @extend_schema_field(FeesSerializer)
    def get_fees(self, arbitration: Arbitration) -> dict:
        fees = {}
        for party in Party.values:
            fee = arbitration.fees.get(party)
            fees[party] = {
                "paid": fee is not None,
                "paid_at": None if fee is None else fee.paid_at,
                "refunded": fee is not None and fee.refunded_at is not None,
            }
        return FeesSerializer(fees).data

    @extend_schema_field(CaseSerializer(allow_null=True))
    def get_case(self, arbitration: Arbitration) -> dict | None:
        case = arbitration.case
        if case is None:
            return None
        arbitrator = arbitration.arbitrator.username if arbitration.arbitrator else None
        return CaseSerializer(
            {"status": case.status, "opened_at": case.opened_at, "arbitrator": arbitrator}
        ).data

    @extend_schema_field(AwardSerializer(allow_null=True))
    def get_award(self, arbitration: Arbitration) -> dict | None:
        return None if arbitration.award is None else AwardSerializer(arbitration.award).data


def _arbitrations(disputes: Sequence[Dispute]) -> dict[int, dict]:
    found = api_selectors.arbitrations_for(disputes=disputes)
    return {pk: ArbitrationSerializer(arbitration).data for pk, arbitration in found.items()}


register_dispute_field("arbitration", provide=_arbitrations, serializer=ArbitrationSerializer)


# --- Input ----------------------------------------------------------------------------------


class EvidenceRequestCreateSerializer(serializers.Serializer):
    party = serializers.ChoiceField(choices=Party.choices, help_text="Whom to ask.")
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: what evidence the arbitrator needs; the party reads it.",
    )
    due_at = serializers.DateTimeField(
        default_timezone=dt.UTC,
        help_text="Until when the party may upload (ISO 8601; without an offset, UTC); in the "
        "future.",
    )


class AwardIssueSerializer(serializers.Serializer):
    to_freelancer = AmountInputField(
        help_text=f"The freelancer's share of the disputed escrow R, 0 or more. {AMOUNT_HELP}"
    )
    to_client = AmountInputField(
        help_text=f"The client's share: to_freelancer + to_client = R to the cent. {AMOUNT_HELP}"
    )
    reasons = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: the written reasons both parties read.",
    )
