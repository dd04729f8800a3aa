from django import forms
from django.contrib import admin, messages
from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html

from core.actions import Actor, holds_role
from core.admin import ReadOnlyAdmin, ReadOnlyInline, amount_column
from core.errors import DomainError
from core.formats import in_reader_zone, local_when

from . import services, staff_reads
from .macros import PLACEHOLDERS
from .models import Dispute, Evidence, Macro, RefundRequest, SupportCase, TimelineEvent


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fk_name = "dispute"
    fields = [
        "at",
        "kind",
        "actor",
        "amounts",
        "note_in_reader_zone",
        "internal",
        "deadline_party",
        "deadline_due_at",
    ]
    readonly_fields = fields
    show_change_link = False
    ordering = ["at", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    @admin.display(description="note")
    def note_in_reader_zone(self, event: TimelineEvent) -> str:
        """The note with each stored UTC moment in the reader's zone, the zone named."""
        return in_reader_zone(event.note)


class RequestTimelineInline(TimelineInline):
    fk_name = "refund_request"


class EvidenceInline(ReadOnlyInline):
    model = Evidence
    fields = ["name", "uploaded_by", "uploaded_at", "size", "sha256", "download"]
    readonly_fields = fields
    show_change_link = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    @admin.display(description="File")
    def download(self, obj):
        return format_html('<a href="{}">Download</a>', obj.get_absolute_url())


class SupportEvidenceInline(EvidenceInline):
    fk_name = "support_case"


class NotOwnCaseAdmin(ReadOnlyAdmin):
    """Staff never see their own cases here: a party reads its case as a party, on its pages
    (these pages show the blind feedback and the staff's internal notes)."""

    contract_path: str

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            case = response.context_data["original"]
            staff_reads.case_read(
                user=request.user,
                case=case,
                via="the admin",
                notes=staff_reads.internal_notes_of(case),
            )
        return response

    def get_queryset(self, request):
        user = request.user
        return (
            super()
            .get_queryset(request)
            .exclude(**{f"{self.contract_path}__client": user})
            .exclude(**{f"{self.contract_path}__freelancer": user})
        )


@admin.register(RefundRequest)
class RefundRequestAdmin(NotOwnCaseAdmin):
    contract_path = "contract"
    list_display = [
        "id",
        "contract",
        amount_column("amount"),
        "currency",
        "status",
        "response_due_at",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["contract__title", "contract__client__username"]
    list_select_related = ["contract"]
    date_hierarchy = "created_at"
    inlines = [RequestTimelineInline]


@admin.register(Dispute)
class DisputeAdmin(NotOwnCaseAdmin):
    amount_currency = "refund_request.currency"
    contract_path = "refund_request__contract"
    list_display = [
        "id",
        "milestone",
        amount_column("amount", currency="refund_request.currency"),
        "status",
        "outcome",
        "submitted_at",
        "deadline",
    ]
    list_filter = ["status", "outcome", "reason"]
    search_fields = ["milestone__title", "milestone__contract__title"]
    list_select_related = ["milestone", "refund_request"]
    date_hierarchy = "created_at"
    inlines = [EvidenceInline, TimelineInline]

    @admin.display(description="Deadline now")
    def deadline(self, obj):
        current = obj.current_deadline()
        if current is None:
            return "—"
        return f"{current.party}: {local_when(current.due_at)}"


class CloseCaseForm(forms.Form):
    note = forms.CharField(
        widget=forms.Textarea, label="Note to the freelancer", help_text="Required."
    )


@admin.register(SupportCase)
class SupportCaseAdmin(NotOwnCaseAdmin):
    contract_path = "milestone__contract"
    list_display = ["id", "milestone", "opened_by", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["milestone", "opened_by"]
    inlines = [SupportEvidenceInline]
    actions = ["close_cases"]

    @admin.action(description="Close the selected support cases with a note")
    def close_cases(self, request, queryset):
        form = CloseCaseForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            closed = 0
            for case in queryset.order_by("pk"):
                try:
                    services.support_case_close(
                        case=case,
                        actor=request.user,
                        note=form.cleaned_data["note"],
                        now=timezone.now(),
                    )
                    closed += 1
                except DomainError as error:
                    self.message_user(request, f"{case}: {error.message}", messages.ERROR)
            self.message_user(request, f"Closed {closed} support case(s).", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/disputes/close_support_cases.html",
            {
                **self.admin_site.each_context(request),
                "title": "Close support cases",
                "cases": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )


class MacroForm(forms.ModelForm):
    class Meta:
        model = Macro
        fields = ["name", "kind", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 8})}
        help_texts = {
            "text": "Placeholders, filled in for the case when an agent inserts it: "
            + "; ".join(f"{{{name}}} {meaning}" for name, meaning in PLACEHOLDERS.items())
            + ". Anything else in braces stays as written. The agent can edit the text before "
            "sending it."
        }


@admin.register(Macro)
class MacroAdmin(admin.ModelAdmin):
    """Support (and superusers) keep the reusable texts; agents insert them on case pages."""

    form = MacroForm
    list_display = ["name", "kind", "updated_at"]
    list_filter = ["kind"]
    search_fields = ["name", "text"]

    def _support(self, request) -> bool:
        return holds_role(request.user, Actor.SUPPORT)

    def has_module_permission(self, request):
        return self._support(request)

    def has_view_permission(self, request, obj=None):
        return self._support(request)

    def has_add_permission(self, request):
        return self._support(request)

    def has_change_permission(self, request, obj=None):
        return self._support(request)

    def has_delete_permission(self, request, obj=None):
        return self._support(request)
