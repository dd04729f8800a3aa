"""Admin bases for rows that change only through the services."""

from operator import attrgetter

from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db import models
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy

from accounts.models import Role, User

from . import audit, deadlines
from .actions import Actor, holds_role
from .models import AuditEntry, StuckDeadline
from .money import format_amount


def amount_column(field: str, *, currency: str = "currency", description: str = ""):
    """An admin column (or read-only field) showing an amount with its currency's places.

    Amount columns keep the most places any currency has, so the admin's own rendering would
    show "250.000" for US dollars; this shows "250.00" (JPY "250", KWD "250.000").
    """
    currency_of = attrgetter(currency)

    @admin.display(description=description or field.replace("_", " "), ordering=field)
    def column(obj):
        value = getattr(obj, field)
        return "-" if value is None else format_amount(value, currency_of(obj))

    column.__name__ = f"{field}_in_currency"
    return column


class AmountsInCurrency:
    """Show a model's amount fields with its currency's places on the change page.

    ``amount_currency`` is the path from a row to its currency code. Each amount field is
    replaced, in the fields and the read-only fields alike, by one column made once per admin.
    """

    amount_currency = "currency"

    @cached_property
    def amount_columns(self) -> dict:
        return {
            f.name: amount_column(f.name, currency=self.amount_currency, description=f.verbose_name)
            for f in self.model._meta.fields
            if isinstance(f, models.DecimalField)
        }

    def _in_currency(self, names) -> list:
        return [self.amount_columns.get(n, n) if isinstance(n, str) else n for n in names]

    def get_fields(self, request, obj=None):
        return self._in_currency(super().get_fields(request, obj))

    def get_readonly_fields(self, request, obj=None):
        readonly = self._in_currency(super().get_readonly_fields(request, obj))
        return readonly + [c for c in self.amount_columns.values() if c not in readonly]


class ReadOnlyAdmin(AmountsInCurrency, admin.ModelAdmin):
    """Money and state change only through the services (and the ledger only through
    contracts.ledger), so staff read these rows here and act through the actions offered."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyInline(AmountsInCurrency, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StuckFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("open", "Stuck"), ("retried", "Retried")]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(resolved_at__isnull=True)
        if self.value() == "retried":
            return queryset.filter(resolved_at__isnull=False)
        return queryset


@admin.register(StuckDeadline)
class StuckDeadlineAdmin(ReadOnlyAdmin):
    """Deadlines a sweep could not apply to a row, even alone: staff look, mend, and retry."""

    list_display = ["__str__", "row", "failures", "last_failed_at", "short_error", "state"]
    list_filter = [StuckFilter, "kind"]
    readonly_fields = [
        "model",
        "kind",
        "object_id",
        "row",
        "error",
        "failures",
        "first_failed_at",
        "last_failed_at",
        "resolved_at",
    ]
    actions = ["retry"]

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff and self._may_retry(request)

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_retry_permission(self, request):
        return self.has_module_permission(request)

    def _may_retry(self, request) -> bool:
        return request.user.is_superuser or holds_role(request.user, Actor.SUPPORT)

    @admin.display(description="Row")
    def row(self, obj):
        app_label, _, model_name = obj.model.partition(".")
        try:
            url = reverse(f"admin:{app_label}_{model_name}_change", args=[obj.object_id])
        except NoReverseMatch:
            return f"{obj.model} #{obj.object_id}"
        return format_html('<a href="{}">{} #{}</a>', url, model_name, obj.object_id)

    @admin.display(description="Error")
    def short_error(self, obj):
        return obj.error if len(obj.error) <= 120 else f"{obj.error[:117]}…"

    @admin.display(description="State", boolean=False)
    def state(self, obj):
        return "Stuck" if obj.resolved_at is None else f"Retried {obj.resolved_at:%Y-%m-%d %H:%M}"

    @admin.action(description="Retry the selected stuck deadlines now", permissions=["retry"])
    def retry(self, request, queryset):
        now = timezone.now()
        applied = failed = 0
        for stuck in queryset.filter(resolved_at__isnull=True).order_by("pk"):
            if deadlines.retry_stuck(stuck, now=now):
                applied += 1
            elif StuckDeadline.objects.filter(
                model=stuck.model, kind=stuck.kind, object_id=stuck.object_id, resolved_at=None
            ).exists():
                failed += 1
            audit.action(user=request.user, name="stuck_deadline.retry", obj=stuck, now=now)
        if applied:
            self.message_user(request, f"Applied {applied} deadline(s).", messages.SUCCESS)
        if failed:
            self.message_user(request, f"{failed} failed again; see the new error.", messages.ERROR)
        if not applied and not failed:
            self.message_user(request, "Nothing was due any more.", messages.INFO)


# --- The audit log ------------------------------------------------------------------------------


@admin.action(
    permissions=["delete"], description=gettext_lazy("Delete selected %(verbose_name_plural)s")
)
def delete_selected(modeladmin, request, queryset):
    """Django's "delete selected", with each deleted row in the audit log: for more than one
    row its admin log is written in bulk, without the signal the audit log listens to."""
    rows = list(queryset)
    with audit.logentries_recorded_elsewhere():
        response = django_delete_selected(modeladmin, request, queryset)
    if response is None:  # deleted (otherwise: the confirmation page)
        audit.admin_deletions(user=request.user, objects=rows, now=timezone.now())
    return response


admin.site.add_action(delete_selected, "delete_selected")


class AuditUserFilter(admin.SimpleListFilter):
    """The staff accounts, read from the users (the log itself may be long)."""

    title = "user"
    parameter_name = "user"

    def lookups(self, request, model_admin):
        staff = (
            User.objects.filter(
                Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name__in=Role.values)
            )
            .distinct()
            .order_by("username", "pk")
            .values_list("pk", "username")
        )
        return [(str(pk), username) for pk, username in staff]

    def queryset(self, request, queryset):
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(user_id=int(value))
        return queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The audit log, for superusers: read it, filter it, search it; nobody changes it.

    Filters never scan the log: the users come from the user table, the kinds and the
    dates are fixed lists, and the full count is not asked for.
    """

    list_display = ["at", "user", "kind", "name", "description", "ip_address", "short_agent"]
    list_filter = [AuditUserFilter, "kind", "at"]
    show_full_result_count = False
    search_fields = ["user__username", "name", "description", "object_id", "ip_address", "path"]
    search_help_text = "Username, action or read, description, object id, IP address or path."
    list_select_related = ["user"]
    ordering = ["-at", "-pk"]
    fields = [
        "at",
        "user",
        "kind",
        "name",
        "content_type",
        "object_id",
        "description",
        "ip_address",
        "user_agent",
        "path",
    ]
    readonly_fields = fields
    actions = None

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="User agent")
    def short_agent(self, obj):
        return obj.user_agent if len(obj.user_agent) <= 60 else f"{obj.user_agent[:57]}…"
