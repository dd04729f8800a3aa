"""The JSON shapes of contracts, milestones, submitted work and balances.

Output serializers only read: amounts leave as strings with exactly their currency's places
("250.00", JPY "250") and times as ISO 8601 in UTC with "Z", whatever the viewer's time zone.
Input serializers check only the shape of a request (types, required fields); the rules (is the
amount positive, does the currency match, may this user act) live in ``contracts.services``, which
every view calls with what the serializer accepted.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from core import deadlines
from core.serializers import (
    AMOUNT_HELP,
    AmountInputField,
    DeadlineSerializer,
    MoneyField,
    UTCDateTimeField,
)

from .models import Contract, Milestone
from .selectors import HISTORY_FILTERS as _HISTORY_FILTERS
from .selectors import HISTORY_ROLES as _HISTORY_ROLES

CURRENCY_HELP = f"ISO 4217 code, one of {', '.join(sorted(settings.CURRENCIES))}."


# --- Fields ---------------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.STR)
class FreelancerField(serializers.Field):
    """The freelancer, named by username."""

    default_error_messages = {"unknown": "There is no user with this username."}

    def to_internal_value(self, data):
        user = None
        if isinstance(data, str) and data.strip():
            user = User.objects.filter(username=data.strip(), is_active=True).first()
        if user is None:
            raise serializers.ValidationError(
                self.error_messages["unknown"], code="invalid_freelancer"
            )
        return user

    def to_representation(self, value):  # pragma: no cover - input only
        return value.username


# --- Output ---------------------------------------------------------------------------------


class SubmissionFileSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(
        read_only=True,
        help_text="The name the file was uploaded with: text to show, never a file name to use.",
    )
    download_name = serializers.CharField(
        read_only=True,
        help_text="The name the file downloads under: generated, with the extension of the type "
        "its content proved (`work-7.pdf`).",
    )
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True, help_text="In bytes.")
    sha256 = serializers.CharField(read_only=True)


class SubmissionSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    submitted_by = serializers.CharField(source="submitted_by.username", read_only=True)
    message = serializers.CharField(read_only=True)
    submitted_at = UTCDateTimeField()
    files = SubmissionFileSerializer(many=True, read_only=True)


class MilestoneSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    contract = serializers.IntegerField(source="contract_id", read_only=True)
    title = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    amount = MoneyField()
    currency = serializers.CharField(read_only=True)
    escrow_balance = MoneyField(help_text="The money held in this milestone's escrow now.")
    status = serializers.ChoiceField(choices=Milestone.Status.choices, read_only=True)
    deadline = serializers.SerializerMethodField(
        help_text=(
            "The deadline that applies now, or null. While work is SUBMITTED: kind "
            '"auto_release", the client\'s time to release or end the contract before the '
            "escrow is released to the freelancer automatically."
        )
    )
    due_date = serializers.DateField(read_only=True, allow_null=True)
    created_at = UTCDateTimeField()
    funded_at = UTCDateTimeField(allow_null=True)
    submitted_at = UTCDateTimeField(allow_null=True)
    released_at = UTCDateTimeField(allow_null=True)
    closed_at = UTCDateTimeField(
        allow_null=True, help_text="When the escrow was emptied for good (released, refunded…)."
    )
    submissions = SubmissionSerializer(many=True, read_only=True)

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, milestone) -> dict | None:
        deadline = deadlines.current(milestone)  # from the declared deadlines
        return None if deadline is None else DeadlineSerializer(deadline).data


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    currency = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Contract.Status.choices, read_only=True)
    client = serializers.CharField(source="client.username", read_only=True)
    freelancer = serializers.CharField(source="freelancer.username", read_only=True)
    role = serializers.SerializerMethodField(help_text="The viewer's role on this contract.")
    created_at = UTCDateTimeField()
    ended_at = UTCDateTimeField(allow_null=True)
    milestones = MilestoneSerializer(many=True, read_only=True)

    @extend_schema_field(serializers.ChoiceField(choices=["client", "freelancer"]))
    def get_role(self, contract) -> str | None:
        return contract.role_of(self.context["request"].user)


class BalanceSerializer(serializers.Serializer):
    account = serializers.ChoiceField(
        source="kind",
        choices=[("FUNDING", "Funding source"), ("EARNINGS", "Earnings"), ("REFUNDS", "Refunds")],
        read_only=True,
        help_text=(
            "FUNDING is the outside money the user paid in (negative by what they paid), "
            "EARNINGS what was released to them, REFUNDS what was refunded to them."
        ),
    )
    currency = serializers.CharField(read_only=True)
    balance = MoneyField()


# --- Input ----------------------------------------------------------------------------------


class ContractCreateSerializer(serializers.Serializer):
    freelancer = FreelancerField(help_text="The freelancer's username.")
    title = serializers.CharField(max_length=200)
    currency = serializers.CharField(max_length=3, help_text=CURRENCY_HELP)


class MilestoneCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    amount = AmountInputField()
    due_date = serializers.DateField(required=False, allow_null=True, default=None)
    currency = serializers.CharField(
        required=False,
        max_length=3,
        help_text="Optional: when sent, it must be the contract's currency.",
    )


class MilestoneFundSerializer(serializers.Serializer):
    currency = serializers.CharField(
        required=False,
        max_length=3,
        help_text="Optional: when sent, it must be the contract's currency.",
    )


class MilestoneSubmitSerializer(serializers.Serializer):
    message = serializers.CharField(max_length=10_000)
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="multipart/form-data only: the delivered files (PDF, PNG, JPEG, text or ZIP).",
    )


class MilestoneReleaseSerializer(serializers.Serializer):
    amount = AmountInputField(
        required=False,
        allow_null=True,
        help_text=f"Optional: omit (or null) to release all of the escrow. {AMOUNT_HELP}",
    )
    currency = serializers.CharField(
        required=False,
        max_length=3,
        help_text="Optional: when sent, it must be the contract's currency.",
    )


class ContractHistoryQuerySerializer(serializers.Serializer):
    """The query parameters of the contract list: the history's filters and search."""

    filter = serializers.ChoiceField(
        choices=list(_HISTORY_FILTERS),
        required=False,
        allow_blank=True,
        help_text=(
            "Only the contracts in this state: `needs_action` (a milestone, refund request, "
            "dispute or evidence request waits for you to act before its deadline), `active`, "
            "`in_dispute` (a submitted dispute is open) or `ended`. Absent or empty: all."
        ),
    )
    role = serializers.ChoiceField(
        choices=list(_HISTORY_ROLES),
        required=False,
        allow_blank=True,
        help_text="Only the contracts where you are the `client`, or the `freelancer`. "
        "Absent or empty: both.",
    )
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=True,
        help_text="Search: every word must appear in the title or in the other party's "
        "username, first or last name (case-insensitive).",
    )
