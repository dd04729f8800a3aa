"""The JSON shapes of refund requests, disputes, evidence, timelines and support cases.

As in ``contracts.serializers``: output serializers only read, amounts leave as strings with their
currency's places, times in UTC with "Z". Input serializers check the shape of a request only; the
rules (amount range, whose action, which state, deadlines) live in ``disputes.services``.

Output serializers need ``context={"request": request}``: what a viewer sees depends on who they
are (blind feedback, a freelancer's draft) and download links are absolute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import models
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from contracts.models import Contract
from core.money import format_amount
from core.serializers import (
    AMOUNT_HELP,
    AmountInputField,
    DeadlineSerializer,
    MoneyField,
    UTCDateTimeField,
)

from .models import (
    Deadline,
    Dispute,
    DisputeMessage,
    Evidence,
    RefundRequest,
    SupportCase,
    TimelineEvent,
)
from .selectors import reads_as_staff

# --- Shared ---------------------------------------------------------------------------------


class CaseDeadlineSerializer(DeadlineSerializer):
    """A deadline of a refund request or dispute: ``DeadlineSerializer`` and two more facts."""

    starts_at = UTCDateTimeField(help_text="When the period began, for a progress bar.")
    enforced = serializers.BooleanField(
        read_only=True,
        help_text=(
            "True when the deadline moves money or closes the case by itself when it passes; "
            "false for a service level (the mediation agent's target), which moves nothing."
        ),
    )


DEADLINE_HELP = (
    "The deadline that applies now, or null. Kinds: refund_request_response (the freelancer "
    "accepts or submits a dispute; silence refunds the client), client_response (the client "
    "accepts or declines; silence releases the disputed amount), mediation_service_level (the "
    "agent's target, enforced: false), resolution_response (party: parties, each answers the "
    "proposed resolution; a rejection or silence brings a Notice of Non-Resolution), "
    "arbitration_window (party: parties, each may pay its arbitration fee; see `arbitration`). "
    "While IN_ARBITRATION the arbitrator's evidence requests carry their own due dates "
    "(`arbitration.evidence_requests`)."
)


# --- Fields the later stages fill ---------------------------------------------------------------
# The dispute object carries the state of stages whose apps depend on this one (``resolution``
# from mediation, ``arbitration`` from arbitration), and a lower app never imports a higher one.
# So each of those apps registers a provider here from its AppConfig.ready(): ``provide`` reads
# what the field shows for every dispute of a page at once, in a fixed number of queries whatever
# the number of disputes, and answers ``{dispute_id: data}``; a dispute left out shows null.
# ``serializer`` documents the field's shape in the schema.


@dataclass(frozen=True)
class DisputeFieldProvider:
    provide: Callable[[Sequence[Dispute]], Mapping[int, object]]
    serializer: type[serializers.Serializer]


DISPUTE_FIELD_PROVIDERS: dict[str, DisputeFieldProvider] = {}


def register_dispute_field(
    name: str,
    *,
    provide: Callable[[Sequence[Dispute]], Mapping[int, object]],
    serializer: type[serializers.Serializer],
) -> None:
    """Fill the dispute object's field ``name`` with what ``provide`` reads (see above)."""
    DISPUTE_FIELD_PROVIDERS[name] = DisputeFieldProvider(provide=provide, serializer=serializer)


_PROVIDED = "_provided_dispute_fields"


def _provide(context: dict, disputes: Iterable[Dispute]) -> None:
    """Ask every provider once about the disputes not asked about yet in this ``context``."""
    provided = context.setdefault(_PROVIDED, {"asked": set(), "values": {}})
    todo = [dispute for dispute in disputes if dispute.pk not in provided["asked"]]
    if not todo:
        return
    for name, provider in DISPUTE_FIELD_PROVIDERS.items():
        provided["values"].setdefault(name, {}).update(provider.provide(todo))
    provided["asked"].update(dispute.pk for dispute in todo)


def provide_dispute_fields(context: dict, disputes: Iterable[Dispute]) -> None:
    """Read the later stages' fields of ``disputes`` at once, for serializers sharing
    ``context`` (the events about many disputes)."""
    _provide(context, disputes)


class ProvidedField(serializers.Field):
    """A field of the dispute object that a later stage fills (``register_dispute_field``)."""

    def __init__(self, **kwargs):
        kwargs.update(read_only=True, source="*", allow_null=True)
        super().__init__(**kwargs)

    def to_representation(self, dispute: Dispute):
        _provide(self.context, [dispute])
        return self.context[_PROVIDED]["values"].get(self.field_name, {}).get(dispute.pk)


class ProvidedFieldExtension(OpenApiSerializerFieldExtension):
    """Document a provided field with the serializer its provider registered."""

    target_class = ProvidedField

    def map_serializer_field(self, auto_schema, direction):
        provider = DISPUTE_FIELD_PROVIDERS.get(self.target.field_name)
        if provider is None:
            return {"type": "object"}
        return auto_schema._map_serializer_field(provider.serializer(), direction)


class DisputeListSerializer(serializers.ListSerializer):
    """A page of disputes: the later stages' fields are read for the whole page at once."""

    def to_representation(self, data):
        disputes = list(data.all() if isinstance(data, models.manager.BaseManager) else data)
        _provide(self.context, disputes)
        return super().to_representation(disputes)


def _deadline(deadline: Deadline | None) -> dict | None:
    return None if deadline is None else CaseDeadlineSerializer(deadline).data


def _viewer(serializer: serializers.Serializer):
    return serializer.context["request"].user


def dispute_is_visible(dispute: Dispute, *, user, contract: Contract) -> bool:
    """A draft is the freelancer's own until submitted (``disputes.selectors``), staff see all."""
    return (
        user.pk == contract.freelancer_id
        or dispute.submitted_at is not None
        or reads_as_staff(user, contract)
    )


class FeedbackSerializer(serializers.Serializer):
    rating = serializers.IntegerField(
        min_value=1, max_value=5, help_text="The freelancer's rating of the client, 1 to 5."
    )
    comment = serializers.CharField(help_text="The freelancer's comment on the client.")


# --- Output ---------------------------------------------------------------------------------


class RefundRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    contract = serializers.IntegerField(source="contract_id", read_only=True)
    milestone = serializers.IntegerField(source="milestone_id", read_only=True)
    currency = serializers.CharField(read_only=True)
    escrowed = MoneyField(help_text="E: held in the milestone's escrow when the contract ended.")
    paid = MoneyField(help_text="P: paid to the freelancer by the client on ending.")
    amount = MoneyField(help_text="R = E − P: the refund the client asks for.")
    status = serializers.ChoiceField(choices=RefundRequest.Status.choices, read_only=True)
    deadline = serializers.SerializerMethodField(help_text=DEADLINE_HELP)
    created_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(allow_null=True)
    dispute = serializers.SerializerMethodField(
        help_text="The id of the dispute filed on this request, or null."
    )

    @extend_schema_field(CaseDeadlineSerializer(allow_null=True))
    def get_deadline(self, request: RefundRequest) -> dict | None:
        return _deadline(request.current_deadline())

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_dispute(self, request: RefundRequest) -> int | None:
        dispute = getattr(request, "dispute", None)
        if dispute is None:
            return None
        if not dispute_is_visible(dispute, user=_viewer(self), contract=request.contract):
            return None
        return dispute.pk


class DisputeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    refund_request = serializers.IntegerField(source="refund_request_id", read_only=True)
    contract = serializers.IntegerField(source="refund_request.contract_id", read_only=True)
    milestone = serializers.IntegerField(source="milestone_id", read_only=True)
    currency = serializers.CharField(source="refund_request.currency", read_only=True)
    amount = serializers.SerializerMethodField(
        help_text="D: the amount the freelancer asks to have reviewed (0 < D ≤ R); null in a "
        "draft until chosen."
    )
    status = serializers.ChoiceField(choices=Dispute.Status.choices, read_only=True)
    outcome = serializers.SerializerMethodField(help_text="How the dispute closed, or null.")
    reason = serializers.SerializerMethodField(help_text="Null in a draft until chosen.")
    description = serializers.CharField(read_only=True)
    feedback = serializers.SerializerMethodField(
        help_text=(
            "The freelancer's feedback on the client. Blind: null for the client while the "
            "dispute is open; the freelancer and staff always see it."
        )
    )
    deadline = serializers.SerializerMethodField(help_text=DEADLINE_HELP)
    submitted_at = UTCDateTimeField(allow_null=True)
    declined_at = UTCDateTimeField(allow_null=True)
    decline_reason = serializers.CharField(
        read_only=True, help_text="The client's reason for declining; empty until declined."
    )
    closed_at = UTCDateTimeField(allow_null=True)
    to_freelancer = serializers.SerializerMethodField(
        help_text="Once closed: what the freelancer received from the disputed escrow."
    )
    to_client = serializers.SerializerMethodField(
        help_text="Once closed: what was refunded to the client."
    )
    resolution = ProvidedField(
        help_text="The mediation agent's latest proposed resolution and the parties' answers; "
        "null until an agent proposes one."
    )
    arbitration = ProvidedField(
        help_text="The arbitration window, both parties' fees, the case, its open evidence "
        "requests and the award; null until a Notice of Non-Resolution opens the window."
    )
    created_at = UTCDateTimeField()

    class Meta:
        list_serializer_class = DisputeListSerializer

    def _money(self, dispute: Dispute, amount) -> str | None:
        return None if amount is None else format_amount(amount, dispute.refund_request.currency)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_amount(self, dispute: Dispute) -> str | None:
        return self._money(dispute, dispute.amount)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_to_freelancer(self, dispute: Dispute) -> str | None:
        return self._money(dispute, dispute.to_freelancer)

    @extend_schema_field(MoneyField(allow_null=True))
    def get_to_client(self, dispute: Dispute) -> str | None:
        return self._money(dispute, dispute.to_client)

    @extend_schema_field(serializers.ChoiceField(choices=Dispute.Outcome.choices, allow_null=True))
    def get_outcome(self, dispute: Dispute) -> str | None:
        return dispute.outcome or None

    @extend_schema_field(serializers.ChoiceField(choices=Dispute.Reason.choices, allow_null=True))
    def get_reason(self, dispute: Dispute) -> str | None:
        return dispute.reason or None

    @extend_schema_field(FeedbackSerializer(allow_null=True))
    def get_feedback(self, dispute: Dispute) -> dict | None:
        user = _viewer(self)
        contract = dispute.refund_request.contract
        if (
            user.pk == contract.freelancer_id
            or dispute.feedback_is_visible_to_client
            or reads_as_staff(user, contract)
        ):
            return {"rating": dispute.feedback_rating, "comment": dispute.feedback_comment}
        return None

    @extend_schema_field(CaseDeadlineSerializer(allow_null=True))
    def get_deadline(self, dispute: Dispute) -> dict | None:
        return _deadline(dispute.current_deadline())


class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(
        read_only=True,
        help_text="The name the file was uploaded with (never a path): text to show, never a "
        "file name to use.",
    )
    download_name = serializers.CharField(
        read_only=True,
        help_text="The name the file downloads under: generated, with the extension of the type "
        "its content proved (`evidence-12.pdf`).",
    )
    size = serializers.IntegerField(read_only=True, help_text="In bytes.")
    sha256 = serializers.CharField(read_only=True, help_text="Hex digest of the file's bytes.")
    content_type = serializers.CharField(
        read_only=True, help_text="Found from the file's content, not from its name."
    )
    description = serializers.CharField(read_only=True)
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)
    uploaded_at = UTCDateTimeField()
    download_url = serializers.SerializerMethodField(
        help_text="GET it (with the same authentication) for the file, as an attachment."
    )

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, evidence: Evidence) -> str:
        path = reverse("api-evidence-download", kwargs={"pk": evidence.pk})
        return self.context["request"].build_absolute_uri(path)


class TimelineEventSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    at = UTCDateTimeField()
    kind = serializers.ChoiceField(choices=TimelineEvent.Kind.choices, read_only=True)
    actor = serializers.SerializerMethodField(
        help_text="The username of who acted, or null when the system did (a deadline passed)."
    )
    amounts = serializers.DictField(
        child=serializers.CharField(),
        read_only=True,
        help_text=(
            "The amounts of the event as decimal strings in the case's currency, by name: "
            "escrowed, paid, refund_requested, disputed, refunded, to_freelancer, to_client."
        ),
    )
    note = serializers.CharField(read_only=True)
    deadline = serializers.SerializerMethodField(
        help_text="The deadline that applied after this event, or null."
    )
    evidence = serializers.IntegerField(
        source="evidence_id",
        read_only=True,
        allow_null=True,
        help_text="The evidence file the event is about, or null.",
    )

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, event: TimelineEvent) -> str | None:
        return event.actor.username if event.actor_id else None

    @extend_schema_field(DeadlineSerializer(allow_null=True))
    def get_deadline(self, event: TimelineEvent) -> dict | None:
        if not event.deadline_due_at:
            return None
        return DeadlineSerializer(
            {
                "kind": event.deadline_kind,
                "due_at": event.deadline_due_at,
                "party": event.deadline_party,
            }
        ).data


class DisputeMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.CharField(
        source="author.username", read_only=True, help_text="The username of who wrote it."
    )
    role = serializers.ChoiceField(
        choices=DisputeMessage.Role.choices,
        read_only=True,
        help_text="What the author is on this dispute: freelancer, client, agent or arbitrator.",
    )
    text = serializers.CharField(read_only=True)
    created_at = UTCDateTimeField()


class SupportCaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    milestone = serializers.IntegerField(source="milestone_id", read_only=True)
    contract = serializers.IntegerField(source="milestone.contract_id", read_only=True)
    status = serializers.ChoiceField(choices=SupportCase.Status.choices, read_only=True)
    description = serializers.CharField(read_only=True)
    staff_note = serializers.CharField(
        read_only=True, help_text="Staff's answer when they close the case; empty until then."
    )
    created_at = UTCDateTimeField()
    closed_at = UTCDateTimeField(allow_null=True)
    evidence = EvidenceSerializer(many=True, read_only=True)


class ContractEndResultSerializer(serializers.Serializer):
    contract = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Contract.Status.choices, read_only=True)
    refund_requests = RefundRequestSerializer(
        many=True,
        read_only=True,
        help_text="One per milestone with money left in escrow after the payments.",
    )


# --- Input ----------------------------------------------------------------------------------


class PaymentSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(help_text="A milestone of this contract.")
    amount = AmountInputField(
        help_text=f"P: released to the freelancer now, 0 ≤ P ≤ the escrow. {AMOUNT_HELP}"
    )


class ContractEndSerializer(serializers.Serializer):
    payments = PaymentSerializer(
        many=True,
        allow_empty=True,
        help_text=(
            "What to pay of each milestone's escrow; a milestone left out is paid nothing. "
            "Whatever is left in a milestone's escrow becomes a refund request."
        ),
    )

    def validate_payments(self, payments: list[dict]) -> list[dict]:
        seen: set[int] = set()
        for payment in payments:
            if payment["milestone"] in seen:
                raise serializers.ValidationError(
                    f"Milestone {payment['milestone']} appears more than once.",
                    code="duplicate_milestone",
                )
            seen.add(payment["milestone"])
        return payments


class _FilingSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(
        choices=Dispute.Reason.choices, required=False, allow_blank=True
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="The milestone's agreements and how the requirements were met.",
    )
    amount = AmountInputField(
        required=False,
        allow_null=True,
        help_text=f"D, the amount to review: 0 < D ≤ the refund requested. {AMOUNT_HELP}",
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["This field cannot be set."] for name in unknown}, code="unknown_field"
            )
        return attrs

    def changes(self) -> dict[str, object]:
        """The validated fields, named as ``disputes.services`` names them."""
        data = dict(self.validated_data)
        feedback = data.pop("feedback", None) or {}
        if "rating" in feedback:
            data["feedback_rating"] = feedback["rating"]
        if "comment" in feedback:
            data["feedback_comment"] = feedback["comment"]
        return data


class DisputeStartSerializer(_FilingSerializer):
    feedback = FeedbackSerializer(help_text="Required first: the freelancer's feedback.")


class PartialFeedbackSerializer(FeedbackSerializer):
    rating = serializers.IntegerField(min_value=1, max_value=5, required=False)
    comment = serializers.CharField(required=False)


class DisputeUpdateSerializer(_FilingSerializer):
    feedback = PartialFeedbackSerializer(
        required=False, help_text="Either or both of rating and comment."
    )


class EvidenceUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="A PDF, PNG, JPEG, plain text or ZIP file, judged by its content."
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=500
    )


class DisputeDeclineSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Required: why the client declines, for the mediation agent.",
    )


class DisputeMessageCreateSerializer(serializers.Serializer):
    text = serializers.CharField(
        allow_blank=True,
        help_text="The message: plain text, up to 10000 characters. Files go through the "
        "evidence rules, never in a message.",
    )

    def validate(self, attrs):
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError(
                {name: ["A message is text only: this field cannot be sent."] for name in unknown},
                code="unknown_field",
            )
        return attrs


class SupportCaseCreateSerializer(serializers.Serializer):
    milestone = serializers.IntegerField(
        help_text="A funded or submitted milestone of an active contract you work on."
    )
    description = serializers.CharField(
        allow_blank=True, help_text="The work you delivered and why payment is due."
    )
    files = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        help_text="multipart/form-data only: evidence files (PDF, PNG, JPEG, text or ZIP).",
    )
