"""The staff side of mediation: the agents' queue, the case page, and read-only resolutions.

The queue is a proxy of ``Dispute`` (``MediationQueueItem``): its changelist lists the disputes
waiting for an agent, oldest decline first, with the 2-day service level; its change page is the
case page. Nothing on these pages edits a row: every form posts to its own admin URL and makes
exactly one service call, so the rules (roles, stages, exact splits, deadlines) live in the
services alone. Only the role's group and superusers see a queue (``accounts.selectors``).

The queue-and-case machinery (``StaffCaseAdmin``, the shared forms and display helpers) lives in
``disputes.case_admin``, shared with the arbitrators' queue (``arbitration.admin``).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Role
from core.actions import Actor
from core.admin import ReadOnlyAdmin, amount_column
from core.money import money
from disputes import services as disputes
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
from disputes.models import Dispute
from offers import selectors as offer_selectors

from . import selectors, services
from .models import MediationQueueItem, Resolution

DStatus = Dispute.Status


# --- The case page's forms ----------------------------------------------------------------------


class ProposeForm(SplitForm):
    rationale = forms.CharField(
        label="Rationale",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Both parties read it with the proposal.",
    )


class ExtendForm(CaseForm):
    due_at = forms.DateTimeField(label="New deadline", widget=DATETIME_WIDGET)
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded on the timeline; both parties read it.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["due_at"].help_text = f"In your time zone, {timezone.get_current_timezone()}."
        deadline = self.dispute.current_deadline()
        if deadline is not None and deadline.enforced:
            self.fields["due_at"].initial = deadline.due_at + timedelta(days=1)


# --- The queue's filters ------------------------------------------------------------------------


class StageFilter(admin.SimpleListFilter):
    title = "stage"
    parameter_name = "stage"

    def lookups(self, request, model_admin):
        return [(stage.value, stage.label) for stage in model_admin.queue_stages]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(status=self.value())
        return queryset


class AgeFilter(admin.SimpleListFilter):
    title = "time since decline"
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [("lt1", "Less than 1 day"), ("1to2", "1–2 days"), ("gt2", "More than 2 days")]

    def queryset(self, request, queryset):
        now = timezone.now()
        day, two_days = now - timedelta(days=1), now - timedelta(days=2)
        if self.value() == "lt1":
            return queryset.filter(declined_at__gt=day)
        if self.value() == "1to2":
            return queryset.filter(declined_at__lte=day, declined_at__gt=two_days)
        if self.value() == "gt2":
            return queryset.filter(declined_at__lte=two_days)
        return queryset


class BreachFilter(admin.SimpleListFilter):
    title = "service level"
    parameter_name = "breach"

    def lookups(self, request, model_admin):
        return [("yes", "Breached"), ("no", "Not breached")]

    def queryset(self, request, queryset):
        breached = selectors.service_level_breached(
            now=timezone.now(), service_level=settings.MEDIATION_SERVICE_LEVEL
        )
        if self.value() == "yes":
            return queryset.filter(breached)
        if self.value() == "no":
            return queryset.exclude(breached)
        return queryset


class TierFilter(admin.SimpleListFilter):
    title = "tier"
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        return [("high", "High value"), ("standard", "Standard")]

    def queryset(self, request, queryset):
        if self.value() == "high":
            return queryset.filter(disputes.high_value_filter())
        if self.value() == "standard":
            return queryset.exclude(disputes.high_value_filter())
        return queryset


# --- The agents' queue --------------------------------------------------------------------------


@admin.register(MediationQueueItem)
class MediationQueueAdmin(StaffCaseAdmin):
    role = Role.MEDIATION_AGENT
    actor = Actor.AGENT
    assign_as = "agent"
    queue_title = "Disputes waiting for mediation, oldest decline first"
    queue_stages = selectors.QUEUE_STAGES
    case_template = "admin/mediation/case.html"
    case_forms = {
        "assign": AssignForm,
        "reassign": ReassignForm,
        "note": NoteForm,
        "message": MessageForm,
        "propose": ProposeForm,
        "extend": ExtendForm,
    }
    list_display = [
        "dispute",
        "contract",
        "parties",
        "amount_in_dispute",
        "declined",
        "service_level",
        "stage",
        "tier",
        "assigned_agent",
    ]
    list_display_links = ["dispute"]
    list_filter = [StageFilter, AgeFilter, BreachFilter, TierFilter, AssigneeFilter]
    search_fields = [
        "=id",
        "refund_request__contract__title",
        "refund_request__contract__client__username",
        "refund_request__contract__freelancer__username",
    ]
    search_help_text = "Dispute number, contract title or a party's username."

    def get_queryset(self, request):
        return selectors.mediation_queue(for_user=request.user)

    def get_case(self, request, object_id):
        dispute = selectors.mediation_case(pk=object_id) if str(object_id).isdigit() else None
        if dispute is None:
            raise Http404("No such dispute.")
        return dispute

    @admin.display(description="Declined", ordering="declined_at")
    def declined(self, obj):
        return format_html(
            '<span class="nowrap">{} ago</span><br><small class="nowrap">{}</small>',
            duration_text(timezone.now() - obj.declined_at),
            local_time(obj.declined_at),
        )

    @admin.display(description="Service level")
    def service_level(self, obj):
        due_at = obj.service_level_due_at or obj.declined_at + settings.MEDIATION_SERVICE_LEVEL
        if obj.first_proposed_at is not None:
            met = obj.first_proposed_at <= due_at
            return format_html(
                '<span class="sla-badge {}">{}</span><br>'
                '<small class="nowrap">proposed after {}</small>',
                "sla-met" if met else "sla-late",
                "Met" if met else "Late",
                duration_text(obj.first_proposed_at - obj.declined_at),
            )
        now = timezone.now()
        if now > due_at:
            return format_html(
                '<span class="sla-badge sla-breached">Breached</span><br>'
                '<small class="nowrap">due {}</small><br><small class="nowrap">{} over</small>',
                local_time(due_at),
                duration_text(now - due_at),
            )
        return format_html(
            '<span class="sla-badge sla-running">Due in {}</span><br>'
            '<small class="nowrap">{}</small>',
            duration_text(due_at - now),
            local_time(due_at),
        )

    @admin.display(description="Stage", ordering="status")
    def stage(self, obj):
        return obj.get_status_display()

    @admin.display(description="Tier")
    def tier(self, obj):
        if disputes.dispute_is_high_value(obj):
            return format_html('<span class="badge badge-tier">{}</span>', "High value")
        return format_html('<span class="muted">{}</span>', "Standard")

    @admin.display(description="Agent", ordering="agent__username")
    def assigned_agent(self, obj):
        return obj.agent or format_html('<span class="muted">{}</span>', "Unassigned")

    form_actions = {
        "assign": "assign_agent",
        "reassign": "reassign_agent",
        "note": "note",
        "message": "message",
        "propose": "propose",
        "extend": "extend",
    }

    def form_action(self, name, dispute):
        if name == "propose" and services.is_small_claim(dispute.refund_request.amount):
            return "decide_small_claim"
        return super().form_action(name, dispute)

    def case_context(self, request, dispute):
        return {
            **super().case_context(request, dispute),
            "resolutions": list(selectors.dispute_resolutions(dispute=dispute)),
            "offers": list(
                offer_selectors.dispute_offers(dispute=dispute).select_related("made_by")
            ),
            "small_claim": services.is_small_claim(dispute.refund_request.amount),
            "high_value": disputes.dispute_is_high_value(dispute),
            "small_claims_limit": Decimal(settings.SMALL_CLAIMS_LIMIT),
            "service_level": settings.MEDIATION_SERVICE_LEVEL,
            "service_level_due_at": dispute.service_level_due_at
            or (
                dispute.declined_at + settings.MEDIATION_SERVICE_LEVEL
                if dispute.declined_at
                else None
            ),
        }

    def case_propose(self, request, dispute, data) -> str:
        resolution = services.resolution_propose(
            dispute=dispute,
            agent=request.user,
            to_freelancer=data["to_freelancer"],
            to_client=data["to_client"],
            rationale=data["rationale"],
            now=timezone.now(),
        )
        split = (
            f"{money(resolution.to_freelancer, resolution.currency)} to the freelancer, "
            f"{money(resolution.to_client, resolution.currency)} to the client"
        )
        if resolution.status == Resolution.Status.BINDING:
            return f"Small claim decided: {split}. The money has moved."
        return f"Resolution proposed: {split}. Both parties have been told."

    def case_extend(self, request, dispute, data) -> str:
        disputes.dispute_extend(
            dispute=dispute,
            actor=request.user,
            due_at=data["due_at"],
            reason=data["reason"],
            now=timezone.now(),
        )
        return f"Deadline moved to {local_time(data['due_at'])}. Both parties have been told."


# --- Read-only browsing -------------------------------------------------------------------------


@admin.register(Resolution)
class ResolutionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dispute",
        "proposed_by",
        amount_column("to_freelancer"),
        amount_column("to_client"),
        "currency",
        "status",
        "freelancer_answer",
        "client_answer",
        "proposed_at",
    ]
    list_filter = ["status", "currency"]
    list_select_related = ["dispute", "proposed_by"]
    search_fields = ["=dispute__id", "proposed_by__username"]
    date_hierarchy = "proposed_at"
