"""The staff's queues and case pages in the admin, shared by mediation agents and arbitrators.

A queue is a proxy of ``Dispute`` whose changelist lists the disputes waiting for one staff
role; its change page is the case page. Nothing on these pages edits a row: every form posts to
its own admin URL and makes exactly one service call, so the rules (roles, stages, exact splits,
deadlines) live in the services alone. Only the role's group and superusers see a queue
(``accounts.selectors``).

``StaffCaseAdmin`` is the base of the agents' queue (``mediation.admin``) and the arbitrators'
(``arbitration.admin``); each adds its own forms and what its stage shows on the case page.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseNotAllowed
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import Role, User
from accounts.services import user_away_set
from core.actions import Actor, holds_role
from core.errors import DomainError
from core.forms import refusal_on_form
from core.money import money

from . import macros, selectors, services, staff_reads
from .models import Dispute, Macro, TimelineEvent
from .services import assignment

KIND_LABELS = dict(TimelineEvent.Kind.choices)


# --- Display helpers -----------------------------------------------------------------------------


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


def _holds_role(request, actor: Actor) -> bool:
    """Whether the user is in the admin site and holds the role of ``actor`` (its group; the
    user's groups are read once per request)."""
    return request.user.is_staff and holds_role(request.user, actor)


# --- The case page's forms -----------------------------------------------------------------------

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


class ReassignForm(CaseForm):
    """Give the case to another staff member of the queue's role, with a reason."""

    role: ClassVar[str] = "agent"

    to = forms.ChoiceField(
        label="Reassign to",
        required=False,
        help_text="Or leave it to the next available one (fewest open cases).",
    )
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded on the timeline.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = getattr(self.dispute, f"{assignment.SEATS[self.role].column}_id")
        choices = assignment.candidates(
            dispute=self.dispute, role=self.role, exclude=(current,) if current else ()
        )
        self.fields["to"].choices = [
            ("", "The next available"),
            *((str(user.pk), f"{user} ({user.open_cases} open)") for user in choices),
        ]

    def clean_to(self):
        value = self.cleaned_data["to"]
        return User.objects.get(pk=int(value)) if value else None


class NoteForm(CaseForm):
    text = forms.CharField(
        label="Internal note",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Staff read it; the parties never do.",
    )


class MessageForm(CaseForm):
    text = forms.CharField(
        label="Message to both parties",
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Both parties read it in the dispute's messages and are notified.",
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


# --- The queues' filters -------------------------------------------------------------------------


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


# --- The shared queue-and-case admin -------------------------------------------------------------


class StaffCaseAdmin(admin.ModelAdmin):
    """A queue of disputes for one staff role, whose rows open a case page with action forms.

    Subclasses name the role, the forms (``case_forms``: name → form class, each handled by a
    ``case_<name>`` method that calls one service and returns the success message), which of
    them a case shows now (``visible_forms``), and what else the page shows (``case_context``).
    """

    role: ClassVar[Role]
    actor: ClassVar[Actor]  # the role as ``core.actions`` names it
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
        return _holds_role(request, self.actor)

    def has_view_permission(self, request, obj=None):
        return _holds_role(request, self.actor)

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
            request,
            {
                "title": self.queue_title,
                "away_since": request.user.away_since,
                "away_url": reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_away"),
                **(extra_context or {}),
            },
        )

    def away_view(self, request):
        """Mark oneself away (no new cases by assignment) or back, from the queue."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        away = request.POST.get("away") == "1"
        try:
            user_away_set(user=request.user, away=away, now=timezone.now())
        except DomainError as error:
            self.message_user(request, error.message, messages.ERROR)
        else:
            done = (
                "You are marked away: no new cases are assigned to you automatically."
                if away
                else "Welcome back: new cases are assigned to you again."
            )
            self.message_user(request, done, messages.SUCCESS)
        return redirect(f"admin:{self.opts.app_label}_{self.opts.model_name}_changelist")

    @admin.action(description="Assign to me")
    def assign_to_me(self, request, queryset):
        now = timezone.now()
        assigned = []
        for dispute in queryset.order_by("pk"):
            try:
                services.dispute_assign(
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
        return (
            [
                path(
                    "away/",
                    self.admin_site.admin_view(self.away_view),
                    name=f"{info[0]}_{info[1]}_away",
                ),
            ]
            + [
                path(
                    f"<path:object_id>/{name}/",
                    self.admin_site.admin_view(self._case_form_view(name)),
                    name=f"{info[0]}_{info[1]}_{name}",
                )
                for name in self.case_forms
            ]
            + super().get_urls()
        )

    def get_case(self, request, object_id) -> Dispute:
        """Return the dispute behind ``object_id`` (any stage the page shows), or raise 404."""
        raise NotImplementedError

    # The action of ``Dispute.lifecycle`` each form takes; a form shows only when the table
    # allows this staff member that action on this case now.
    form_actions: ClassVar[dict[str, str]] = {}

    def form_action(self, name: str, dispute) -> str:
        return self.form_actions[name]

    def visible_forms(self, request, dispute) -> list[str]:
        now = timezone.now()
        return [
            name
            for name in self.case_forms
            if self.form_applies(request, name, dispute)
            and Dispute.lifecycle.allows(
                self.form_action(name, dispute), dispute, user=request.user, now=now
            )
        ]

    def form_applies(self, request, name: str, dispute) -> bool:
        """Whether the form makes sense here beyond the table (nobody takes their own case
        twice)."""
        if name == "assign":
            return getattr(dispute, f"{self.assign_as}_id") != request.user.pk
        return True

    def conflict(self, request, dispute) -> str:
        """Why this staff member may not act on this case at all, or "" (nobody decides their
        own case, and nobody arbitrates what they mediated)."""
        conflict = Dispute.lifecycle.conflict_of(dispute, request.user, self.actor)
        return conflict.message if conflict is not None else ""

    def case_context(self, request, dispute) -> dict:
        """What every case page shows: both filings, evidence and the timeline.

        Subclasses add what their stages know (the mediation app's resolutions, the fees…).
        """
        contract = dispute.refund_request.contract
        party_of = {contract.freelancer_id: "freelancer", contract.client_id: "client"}
        evidence = list(selectors.dispute_evidence(dispute=dispute))
        for item in evidence:
            item.party = party_of.get(item.uploaded_by_id, "staff")
            item.size_text = file_size(item.size)
        events = list(
            selectors.timeline_for_viewer(
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
        in_thread = dispute.in_thread(request.user)
        return {
            # The parties' thread, for the staff member assigned to the case only.
            "thread": list(selectors.dispute_messages(dispute=dispute)) if in_thread else None,
            "contract": contract,
            "currency": currency,
            "deadline": deadline,
            "deadline_overdue": deadline is not None and timezone.now() > deadline.due_at,
            "evidence": evidence,
            "events": events,
        }

    def change_view(self, request, object_id, form_url="", extra_context=None):
        dispute = self.get_case(request, object_id)
        if not self.has_view_permission(request, dispute):
            raise PermissionDenied
        response = self.render_case(request, dispute)
        if response.status_code == 200:
            via = f"the {self.opts.verbose_name.lower()}'s case page"
            staff_reads.case_read(
                user=request.user, case=dispute, via=via, events=response.context_data["events"]
            )
            staff_reads.messages_read(
                user=request.user,
                dispute=dispute,
                via=via,
                count=len(response.context_data["thread"] or ()),
            )
        return response

    # Where each kind of macro goes: the forms (and their field) that take its text.
    MACRO_TARGETS: ClassVar[dict[str, tuple[tuple[str, str], ...]]] = {
        Macro.Kind.RATIONALE: (("propose", "rationale"), ("award", "reasons")),
        Macro.Kind.NOTE: (("note", "text"),),
        Macro.Kind.MESSAGE: (("message", "text"),),
        Macro.Kind.EVIDENCE_REQUEST: (("evidence_request", "message"),),
    }

    def case_macros(self, request, dispute, names: list[str]) -> list[dict]:
        """The macros this page can insert (into a form it shows), rendered for the case."""
        found = []
        for macro in Macro.objects.order_by("kind", "name", "pk"):
            for form_name, field in self.MACRO_TARGETS.get(macro.kind, ()):
                if form_name in names:
                    found.append(
                        {
                            "macro": macro,
                            "form": form_name,
                            "field": field,
                            "target": f"{form_name}-{field}",
                            "text": macros.render(macro.text, dispute),
                        }
                    )
        return found

    def render_case(self, request, dispute, *, bound=None, status=200):
        if request.user.pk in Dispute.lifecycle.parties_of(dispute):
            # Their own case: no staff page at all (it would show the other side's blind
            # feedback and the staff's notes); they follow it as the party they are.
            context = {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": str(dispute),
                "dispute": dispute,
                "conflict": self.conflict(request, dispute),
            }
            return TemplateResponse(
                request, "admin/disputes/case_conflict.html", context, status=403
            )
        bound = bound or {}
        names = self.visible_forms(request, dispute)
        names += [name for name in bound if name not in names]
        menu = self.case_macros(request, dispute, names)
        # ``?macro=<id>`` (the menu's links, without JavaScript): its text pre-fills its form.
        chosen = request.GET.get("macro", "")
        prefill = {
            item["form"]: {item["field"]: item["text"]}
            for item in menu
            if chosen.isdigit() and item["macro"].pk == int(chosen)
        }
        case_forms = {
            name: bound.get(name)
            or self.case_forms[name](
                dispute=dispute, auto_id=f"{name}-%s", initial=prefill.get(name)
            )
            for name in names
        }
        context = {
            **self.admin_site.each_context(request),
            "conflict": self.conflict(request, dispute),
            "opts": self.opts,
            "title": f"{dispute}: {dispute.refund_request.contract.title}",
            "subtitle": None,
            "dispute": dispute,
            "forms": case_forms,
            "macros": menu,
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
                    # Each message once: on the form when it names its fields, else on the page.
                    if error.fields:
                        refusal_on_form(form, error)
                        summary = "Please correct the errors below."
                        self.message_user(request, summary, messages.ERROR)
                    else:
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
        services.dispute_assign(
            dispute=dispute, staff=request.user, role=self.assign_as, now=timezone.now()
        )
        return f"You took {dispute}."

    def case_reassign(self, request, dispute, data) -> str:
        dispute = services.dispute_reassign(
            dispute=dispute,
            actor=request.user,
            role=self.assign_as,
            to=data["to"],
            reason=data["reason"],
            now=timezone.now(),
        )
        return f"{dispute} is reassigned to {getattr(dispute, self.assign_as)}."

    def case_message(self, request, dispute, data) -> str:
        services.dispute_message_post(
            dispute=dispute, author=request.user, text=data["text"], now=timezone.now()
        )
        return "Message sent. Both parties have been told."

    def case_note(self, request, dispute, data) -> str:
        services.dispute_note_add(
            dispute=dispute, author=request.user, text=data["text"], now=timezone.now()
        )
        return "Internal note added."
