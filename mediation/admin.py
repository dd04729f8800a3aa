"""The staff side of mediation: the agents' queue, the case page, and read-only resolutions.

The queue is a proxy of ``Dispute`` (``MediationQueueItem``): its changelist lists the disputes
waiting for an agent, oldest decline first, with the 2-day service level; its change page is the
case page. Nothing on these pages edits a row: every form posts to its own admin URL and makes
exactly one service call, so the rules (roles, stages, exact splits, deadlines) live in the
services alone. Only the role's group and superusers see a queue (``accounts.selectors``).

``StaffCaseAdmin`` is shared with the arbitrators' queue (``arbitration.admin``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Role, User
from accounts.selectors import user_has_role
from core.admin import ReadOnlyAdmin
from core.errors import DomainError
from core.money import money
from disputes import selectors as dispute_selectors
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent

from . import selectors, services
from .models import MediationQueueItem, Resolution

DStatus = Dispute.Status
KIND_LABELS = dict(TimelineEvent.Kind.choices)


# --- Display helpers ----------------------------------------------------------------------------


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def duration_text(delta: timedelta | None) -> str:
    """A duration as staff read it: "2 days 3 hours", "5 hours", "4 minutes"."""
    if delta is None:
        return "—"
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return " ".join([_plural(days, "day")] + ([_plural(hours, "hour")] if hours else []))
    if hours:
        return _plural(hours, "hour")
    return _plural(minutes, "minute")


def local_time(moment: datetime | None) -> str:
    """A moment in the viewer's time zone, minute precision: "21 Nov 2026, 09:00 CET"."""
    if moment is None:
        return "—"
    local = timezone.localtime(moment)
    return f"{local.day} {local:%b %Y, %H:%M %Z}"


def file_size(size: int) -> str:
    """A file size with one decimal at most: "512 bytes", "3.7 KB", "1.2 MB"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def _holds_role(request, role: Role) -> bool:
    """Whether the user holds ``role`` (remembered for the request: the admin asks often)."""
    known = request.__dict__.setdefault("_staff_roles", {})
    if role not in known:
        user = request.user
        known[role] = bool(user.is_active and user.is_staff and user_has_role(user=user, role=role))
    return known[role]


# --- The case page's forms ----------------------------------------------------------------------

DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CaseForm(forms.Form):
    """A form on the case page; it knows its dispute so labels can name amounts and parties."""

    def __init__(self, *args, dispute: Dispute, **kwargs):
        self.dispute = dispute
        super().__init__(*args, **kwargs)

    @property
    def currency(self) -> str:
        return self.dispute.refund_request.currency


class AssignForm(CaseForm):
    pass


class NoteForm(CaseForm):
    text = forms.CharField(
        label="Internal note",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff read it; the parties never do.",
    )


class SplitForm(CaseForm):
    to_freelancer = forms.CharField(label="To the freelancer")
    to_client = forms.CharField(label="To the client")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("to_freelancer", "to_client"):
            field = self.fields[name]
            field.label = f"{field.label} ({self.currency})"
            field.widget.attrs.update({"inputmode": "decimal", "placeholder": "0.00"})


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


class AssigneeFilter(admin.SimpleListFilter):
    """Me, unassigned, or one staff member of the queue's role."""

    title = "assigned to"
    parameter_name = "assignee"
    field = "agent"  # the Dispute field holding the assignee

    def lookups(self, request, model_admin):
        staff = (
            User.objects.filter(Q(groups__name=model_admin.role.value) | Q(is_superuser=True))
            .distinct()
            .order_by("username", "pk")
            .values_list("pk", "username")
        )
        return [("me", "Me"), ("none", "Unassigned"), *((str(pk), name) for pk, name in staff)]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "me":
            return queryset.filter(**{self.field: request.user})
        if value == "none":
            return queryset.filter(**{f"{self.field}__isnull": True})
        if value and value.isdigit():
            return queryset.filter(**{f"{self.field}_id": int(value)})
        return queryset


# --- The shared queue-and-case admin ------------------------------------------------------------


class StaffCaseAdmin(admin.ModelAdmin):
    """A queue of disputes for one staff role, whose rows open a case page with action forms.

    Subclasses name the role, the forms (``case_forms``: name → form class, each handled by a
    ``case_<name>`` method that calls one service and returns the success message), which of
    them a case shows now (``visible_forms``), and what else the page shows (``case_context``).
    """

    role: ClassVar[Role]
    assign_as: ClassVar[str]  # the role's name in disputes.services.dispute_assign
    queue_stages: ClassVar[tuple[str, ...]]
    case_template: ClassVar[str]
    case_forms: ClassVar[dict[str, type[CaseForm]]] = {}
    change_list_template = "admin/mediation/queue_change_list.html"
    actions = ["assign_to_me"]
    list_per_page = 50

    class Media:
        css = {"all": ["css/admin-queue.css"]}

    # Only the role sees the queue, and nobody edits through it.

    def has_module_permission(self, request):
        return _holds_role(request, self.role)

    def has_view_permission(self, request, obj=None):
        return _holds_role(request, self.role)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # The queue.

    queue_title: ClassVar[str]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(
            request, {"title": self.queue_title, **(extra_context or {})}
        )

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        now = timezone.now()
        assigned = []
        for dispute in queryset.order_by("pk"):
            try:
                disputes.dispute_assign(
                    dispute=dispute, staff=request.user, role=self.assign_as, now=now
                )
            except DomainError as error:
                self.message_user(request, f"{dispute}: {error.message}", messages.ERROR)
            else:
                assigned.append(str(dispute))
        if assigned:
            self.message_user(request, f"Assigned to you: {', '.join(assigned)}.", messages.SUCCESS)

    @admin.display(description="Dispute", ordering="pk")
    def dispute(self, obj):
        return format_html('<span class="nowrap">{}</span>', obj)

    @admin.display(description="Contract")
    def contract(self, obj):
        return obj.refund_request.contract.title

    @admin.display(description="Parties")
    def parties(self, obj):
        contract = obj.refund_request.contract
        return format_html(
            '<span class="nowrap">{} <small>freelancer</small></span><br>'
            '<span class="nowrap">{} <small>client</small></span>',
            contract.freelancer,
            contract.client,
        )

    @admin.display(description="In dispute (R)")
    def amount_in_dispute(self, obj):
        request = obj.refund_request
        amount = money(request.amount, request.currency, none="—")
        return format_html('<span class="num">{}</span>', amount)

    # The case page.

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                f"<path:object_id>/{name}/",
                self.admin_site.admin_view(self._case_form_view(name)),
                name=f"{info[0]}_{info[1]}_{name}",
            )
            for name in self.case_forms
        ] + super().get_urls()

    def get_case(self, request, object_id) -> Dispute:
        """Return the dispute behind ``object_id`` (any stage the page shows), or raise 404."""
        raise NotImplementedError

    def visible_forms(self, request, dispute) -> list[str]:
        return []

    def case_context(self, request, dispute) -> dict:
        """What every case page shows: both filings, resolutions, evidence and the timeline."""
        contract = dispute.refund_request.contract
        party_of = {contract.freelancer_id: "freelancer", contract.client_id: "client"}
        evidence = list(dispute_selectors.dispute_evidence(dispute=dispute))
        for item in evidence:
            item.party = party_of.get(item.uploaded_by_id, "staff")
            item.size_text = file_size(item.size)
        events = list(
            dispute_selectors.timeline_for_viewer(
                refund_request=dispute.refund_request, user=request.user, role=None
            )
        )
        currency = dispute.refund_request.currency
        for event in events:
            event.label = KIND_LABELS.get(event.kind, event.kind)
            event.amount_items = [
                (key.replace("_", " "), f"{value} {currency}")
                for key, value in (event.amounts or {}).items()
            ]
        deadline = dispute.current_deadline()
        return {
            "contract": contract,
            "currency": currency,
            "deadline": deadline,
            "deadline_overdue": deadline is not None and timezone.now() > deadline.due_at,
            "evidence": evidence,
            "events": events,
            "resolutions": list(selectors.dispute_resolutions(dispute=dispute)),
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dispute = self.get_case(request, object_id)
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        return self.render_case(request, dispute)

    def render_case(self, request, dispute, *, bound=None, status=200):
        bound = bound or {}
        names = self.visible_forms(request, dispute)
        names += [name for name in bound if name not in names]
        case_forms = {
            name: bound.get(name) or self.case_forms[name](dispute=dispute, auto_id=f"{name}-%s")
            for name in names
        }
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"{dispute}: {dispute.refund_request.contract.title}",
            "subtitle": None,
            "dispute": dispute,
            "forms": case_forms,
            "form_urls": {
                name: reverse(
                    f"admin:{self.opts.app_label}_{self.opts.model_name}_{name}",
                    args=[dispute.pk],
                )
                for name in case_forms
            },
            **self.case_context(request, dispute),
        }
        return TemplateResponse(request, self.case_template, context, status=status)

    def _case_form_view(self, name: str) -> Callable:
        def view(request, object_id):
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            dispute = self.get_case(request, object_id)
            if not self.has_view_permission(request, dispute):
                raise PermissionDenied
            form = self.case_forms[name](request.POST, dispute=dispute, auto_id=f"{name}-%s")
            status = 400
            if form.is_valid():
                try:
                    done = getattr(self, f"case_{name}")(request, dispute, form.cleaned_data)
                except DomainError as error:
                    for field, errors in error.fields.items():
                        for message in errors:
                            form.add_error(field if field in form.fields else None, message)
                    self.message_user(request, error.message, messages.ERROR)
                    status = error.status
                else:
                    self.message_user(request, done, messages.SUCCESS)
                    return redirect(
                        f"admin:{self.opts.app_label}_{self.opts.model_name}_change", dispute.pk
                    )
            else:
                self.message_user(request, "Please correct the errors below.", messages.ERROR)
            return self.render_case(request, dispute, bound={name: form}, status=status)

        view.__name__ = f"case_{name}_view"
        return view

    # The forms every case page offers.

    def case_assign(self, request, dispute, data) -> str:
        disputes.dispute_assign(
            dispute=dispute, staff=request.user, role=self.assign_as, now=timezone.now()
        )
        return f"You took {dispute}."

    def case_note(self, request, dispute, data) -> str:
        disputes.dispute_note_add(
            dispute=dispute, author=request.user, text=data["text"], now=timezone.now()
        )
        return "Internal note added."


# --- The agents' queue --------------------------------------------------------------------------


@admin.register(MediationQueueItem)
class MediationQueueAdmin(StaffCaseAdmin):
    role = Role.MEDIATION_AGENT
    assign_as = "agent"
    queue_title = "Disputes waiting for mediation, oldest decline first"
    queue_stages = selectors.QUEUE_STAGES
    case_template = "admin/mediation/case.html"
    case_forms = {
        "assign": AssignForm,
        "note": NoteForm,
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
        "assigned_agent",
    ]
    list_display_links = ["dispute"]
    list_filter = [StageFilter, AgeFilter, BreachFilter, AssigneeFilter]
    search_fields = [
        "=id",
        "refund_request__contract__title",
        "refund_request__contract__client__username",
        "refund_request__contract__freelancer__username",
    ]
    search_help_text = "Dispute number, contract title or a party's username."

    def get_queryset(self, request):
        return selectors.mediation_queue()

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
        due_at = obj.declined_at + settings.MEDIATION_SERVICE_LEVEL
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

    @admin.display(description="Agent", ordering="agent__username")
    def assigned_agent(self, obj):
        return obj.agent or format_html('<span class="muted">{}</span>', "Unassigned")

    def visible_forms(self, request, dispute):
        names = []
        if dispute.status in self.queue_stages and dispute.agent_id != request.user.pk:
            names.append("assign")
        if dispute.status == DStatus.IN_MEDIATION:
            names.append("propose")
        if dispute.status in Dispute.PARTY_DEADLINE_STAGES:
            names.append("extend")
        names.append("note")
        return names

    def case_context(self, request, dispute):
        return {
            **super().case_context(request, dispute),
            "small_claim": services.is_small_claim(dispute.refund_request.amount),
            "small_claims_limit": Decimal(settings.SMALL_CLAIMS_LIMIT),
            "service_level": settings.MEDIATION_SERVICE_LEVEL,
            "service_level_due_at": (
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
        "to_freelancer",
        "to_client",
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
