"""The staff side of arbitration: the arbitrators' queue and case page, and read-only browsing.

The queue (``ArbitrationQueueItem``, a proxy of ``Dispute``) lists the disputes in arbitration,
oldest case first. The case page shows everything the agents' page shows, plus the fees both
parties paid and the evidence requests; its forms ask a party for more evidence, issue the
final award, or add an internal note, each through one service. After the award the forms go
and the award stays. Only arbitrators and superusers see the queue.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.db.models import Count, Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Role
from core.actions import Actor
from core.admin import ReadOnlyAdmin, ReadOnlyInline, amount_column
from core.money import money
from disputes.case_admin import (
    DATETIME_WIDGET,
    AssigneeFilter,
    AssignForm,
    CaseForm,
    MessageForm,
    NoteForm,
    ReassignForm,
    SplitForm,
    StaffCaseAdmin,
    duration_text,
    local_time,
)
from disputes.models import Dispute, TimelineEvent
from mediation import selectors as mediation_selectors
from offers import selectors as offer_selectors

from . import services
from .models import (
    ArbitrationCase,
    ArbitrationFee,
    ArbitrationQueueItem,
    Award,
    EvidenceRequest,
    Party,
)

DStatus = Dispute.Status


class EvidenceRequestForm(CaseForm):
    party = forms.ChoiceField(
        label="Ask", choices=Party.choices, widget=forms.RadioSelect, initial=Party.FREELANCER
    )
    message = forms.CharField(
        label="What evidence do you need?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The party reads it and uploads the files on the dispute page.",
    )
    due_at = forms.DateTimeField(label="Due", widget=DATETIME_WIDGET)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        contract = self.dispute.refund_request.contract
        self.fields["party"].choices = [
            (Party.FREELANCER, f"The freelancer, {contract.freelancer}"),
            (Party.CLIENT, f"The client, {contract.client}"),
        ]
        now = timezone.localtime().replace(minute=0, second=0, microsecond=0)
        self.fields["due_at"].initial = now + timedelta(days=3)
        self.fields["due_at"].help_text = f"In your time zone, {timezone.get_current_timezone()}."


class AwardForm(SplitForm):
    reasons = forms.CharField(
        label="Reasons",
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="Both parties read them with the award.",
    )


class OpenEvidenceRequestsFilter(admin.SimpleListFilter):
    title = "evidence requests"
    parameter_name = "requests"

    def lookups(self, request, model_admin):
        return [("open", "Some open"), ("none", "None open")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(open_requests__gt=0)
        if self.value() == "none":
            return queryset.filter(open_requests=0)
        return queryset


class ArbitratorFilter(AssigneeFilter):
    field = "arbitrator"


class ArbitratorReassignForm(ReassignForm):
    role = "arbitrator"


@admin.register(ArbitrationQueueItem)
class ArbitrationQueueAdmin(StaffCaseAdmin):
    role = Role.ARBITRATOR
    actor = Actor.ARBITRATOR
    assign_as = "arbitrator"
    queue_title = "Disputes in arbitration, oldest case first"
    queue_stages = (DStatus.IN_ARBITRATION,)
    case_template = "admin/arbitration/case.html"
    case_forms = {
        "assign": AssignForm,
        "reassign": ArbitratorReassignForm,
        "note": NoteForm,
        "message": MessageForm,
        "evidence_request": EvidenceRequestForm,
        "award": AwardForm,
    }
    list_display = [
        "dispute",
        "contract",
        "parties",
        "amount_in_dispute",
        "opened",
        "open_for",
        "open_requests_count",
        "assigned_arbitrator",
    ]
    list_display_links = ["dispute"]
    list_filter = [OpenEvidenceRequestsFilter, ArbitratorFilter]
    search_fields = [
        "=id",
        "refund_request__contract__title",
        "refund_request__contract__client__username",
        "refund_request__contract__freelancer__username",
    ]
    search_help_text = "Dispute number, contract title or a party's username."

    def get_queryset(self, request):
        # Nobody arbitrates a dispute they are a party to, or one they mediated.
        return (
            ArbitrationQueueItem.objects.filter(status=DStatus.IN_ARBITRATION)
            .exclude(refund_request__contract__client=request.user)
            .exclude(refund_request__contract__freelancer=request.user)
            .exclude(agent=request.user)
            .exclude(
                Exists(
                    TimelineEvent.objects.filter(
                        dispute=OuterRef("pk"),
                        kind=TimelineEvent.Kind.AGENT_ASSIGNED,
                        actor=request.user,
                    )
                )
            )
            .select_related(
                "refund_request__contract__client",
                "refund_request__contract__freelancer",
                "arbitrator",
                "arbitration_case",
            )
            .annotate(
                open_requests=Count(
                    "arbitration_case__evidence_requests",
                    filter=Q(
                        arbitration_case__evidence_requests__status=EvidenceRequest.Status.OPEN
                    ),
                )
            )
            .order_by("arbitration_case__opened_at", "pk")
        )

    def get_case(self, request, object_id):
        dispute = None
        if str(object_id).isdigit():
            dispute = (
                ArbitrationQueueItem.objects.filter(arbitration_case__isnull=False)
                .select_related(
                    "refund_request__contract__client",
                    "refund_request__contract__freelancer",
                    "milestone",
                    "agent",
                    "arbitrator",
                    "arbitration_case",
                )
                .filter(pk=object_id)
                .first()
            )
        if dispute is None:
            raise Http404("No such arbitration case.")
        return dispute

    @admin.display(description="Case opened", ordering="arbitration_case__opened_at")
    def opened(self, obj):
        return local_time(obj.arbitration_case.opened_at)

    @admin.display(description="Open for")
    def open_for(self, obj):
        return duration_text(timezone.now() - obj.arbitration_case.opened_at)

    @admin.display(description="Open evidence requests", ordering="open_requests")
    def open_requests_count(self, obj):
        if not obj.open_requests:
            return format_html('<span class="muted">{}</span>', "None")
        return format_html('<span class="sla-badge sla-running">{} open</span>', obj.open_requests)

    @admin.display(description="Arbitrator", ordering="arbitrator__username")
    def assigned_arbitrator(self, obj):
        return obj.arbitrator or format_html('<span class="muted">{}</span>', "Unassigned")

    def _case_is_open(self, dispute) -> bool:
        return (
            dispute.status == DStatus.IN_ARBITRATION
            and dispute.arbitration_case.status == ArbitrationCase.Status.OPEN
        )

    form_actions = {
        "assign": "assign_arbitrator",
        "reassign": "reassign_arbitrator",
        "note": "note",
        "message": "message",
        "evidence_request": "request_evidence",
        "award": "award",
    }

    def visible_forms(self, request, dispute):
        # After the award the forms go and the award stays.
        if not self._case_is_open(dispute):
            return []
        return super().visible_forms(request, dispute)

    def case_context(self, request, dispute):
        case = dispute.arbitration_case
        award = Award.objects.filter(case=case).select_related("arbitrator").first()
        return {
            **super().case_context(request, dispute),
            "resolutions": list(mediation_selectors.dispute_resolutions(dispute=dispute)),
            "offers": list(
                offer_selectors.dispute_offers(dispute=dispute).select_related("made_by")
            ),
            "case": case,
            "fees": list(
                ArbitrationFee.objects.filter(dispute=dispute)
                .select_related("payer")
                .order_by("paid_at", "pk")
            ),
            "evidence_requests": list(
                EvidenceRequest.objects.filter(case=case)
                .select_related("requested_by")
                .order_by("requested_at", "pk")
            ),
            "award": award,
        }

    def case_evidence_request(self, request, dispute, data) -> str:
        evidence_request = services.evidence_request_create(
            dispute=dispute,
            arbitrator=request.user,
            party=data["party"],
            message=data["message"],
            due_at=data["due_at"],
            now=timezone.now(),
        )
        return (
            f"Asked the {evidence_request.party} for evidence by "
            f"{local_time(evidence_request.due_at)}. They have been told."
        )

    def case_award(self, request, dispute, data) -> str:
        award = services.award_issue(
            dispute=dispute,
            arbitrator=request.user,
            to_freelancer=data["to_freelancer"],
            to_client=data["to_client"],
            reasons=data["reasons"],
            now=timezone.now(),
        )
        return (
            f"Final award issued: {money(award.to_freelancer, award.currency)} to the "
            f"freelancer, {money(award.to_client, award.currency)} to the client. "
            "The money has moved and the dispute is closed."
        )


# --- Read-only browsing -------------------------------------------------------------------------


@admin.register(ArbitrationFee)
class ArbitrationFeeAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dispute",
        "party",
        "payer",
        amount_column("amount"),
        "currency",
        "paid_at",
        "refunded_at",
    ]
    list_filter = ["party", "currency"]
    list_select_related = ["dispute", "payer"]
    search_fields = ["=dispute__id", "payer__username"]
    date_hierarchy = "paid_at"


class EvidenceRequestInline(ReadOnlyInline):
    model = EvidenceRequest
    fields = ["party", "message", "requested_by", "requested_at", "due_at", "status", "closed_at"]
    readonly_fields = fields
    show_change_link = False
    ordering = ["requested_at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("requested_by")


class AwardInline(ReadOnlyInline):
    model = Award
    fields = ["arbitrator", "to_freelancer", "to_client", "currency", "reasons", "issued_at"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("arbitrator")


@admin.register(ArbitrationCase)
class ArbitrationCaseAdmin(ReadOnlyAdmin):
    list_display = ["id", "dispute", "status", "opened_at", "awarded_at"]
    list_filter = ["status"]
    list_select_related = ["dispute"]
    search_fields = ["=dispute__id"]
    date_hierarchy = "opened_at"
    inlines = [EvidenceRequestInline, AwardInline]
