from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import render
from django.utils import timezone

from core import audit
from core.errors import DomainError

from . import services
from .forms import StaffAuthenticationForm
from .models import Role, User

# The admin's login asks staff for their authenticator app's code too (accounts.two_factor).
admin.site.login_form = StaffAuthenticationForm
admin.site.login_template = "admin/accounts/login.html"


class SuspendForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, label="Reason (the user reads it)")


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=[(role.name, role.value) for role in Role], label="Role")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_staff", "time_zone", "suspended_at"]
    list_filter = [*BaseUserAdmin.list_filter, "suspended_at"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Marketplace", {"fields": ["time_zone", "suspended_at", "suspension_reason"]}),
    ]
    readonly_fields = ["suspended_at", "suspension_reason"]
    actions = ["suspend", "reinstate", "grant_role", "revoke_role"]

    @admin.action(description="Suspend the selected accounts (read-only until reinstated)")
    def suspend(self, request, queryset):
        form = SuspendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            done = 0
            for user in queryset.order_by("pk"):
                try:
                    services.user_suspend(
                        user=user,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        now=timezone.now(),
                    )
                except DomainError as error:
                    self.message_user(request, f"{user}: {error.message}", messages.ERROR)
                else:
                    done += 1
            if done:
                self.message_user(request, f"Suspended {done} account(s).", messages.SUCCESS)
            return None
        return render(
            request,
            "admin/accounts/suspend.html",
            {
                **self.admin_site.each_context(request),
                "title": "Suspend accounts",
                "users": queryset,
                "form": form,
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Reinstate the selected accounts")
    def reinstate(self, request, queryset):
        done = 0
        for user in queryset.order_by("pk"):
            try:
                services.user_reinstate(user=user, actor=request.user, now=timezone.now())
            except DomainError as error:
                self.message_user(request, f"{user}: {error.message}", messages.ERROR)
            else:
                done += 1
        if done:
            self.message_user(request, f"Reinstated {done} account(s).", messages.SUCCESS)

    def has_roles_permission(self, request):
        """Only superusers give and take staff roles."""
        return request.user.is_superuser

    @admin.action(description="Give the selected accounts a staff role", permissions=["roles"])
    def grant_role(self, request, queryset):
        return self._role_action(request, queryset, revoke=False)

    @admin.action(
        description="Take a staff role away from the selected accounts", permissions=["roles"]
    )
    def revoke_role(self, request, queryset):
        return self._role_action(request, queryset, revoke=True)

    def _role_action(self, request, queryset, *, revoke: bool):
        form = RoleForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            role = Role[form.cleaned_data["role"]]
            change = services.user_role_revoke if revoke else services.user_role_grant
            now = timezone.now()
            for user in queryset.order_by("pk"):
                change(user=user, role=role)
                audit.action(
                    user=request.user,
                    name="user.revoke_role" if revoke else "user.grant_role",
                    obj=user,
                    description=f"{user}: {role.value}",
                    now=now,
                )
            done = "Took" if revoke else "Gave"
            self.message_user(
                request,
                f"{done} the role {role.value} {'from' if revoke else 'to'} "
                f"{queryset.count()} account(s).",
                messages.SUCCESS,
            )
            return None
        return render(
            request,
            "admin/accounts/grant_role.html",
            {
                **self.admin_site.each_context(request),
                "title": "Revoke a staff role" if revoke else "Grant a staff role",
                "users": queryset,
                "form": form,
                "revoke": revoke,
                "action": "revoke_role" if revoke else "grant_role",
                "opts": self.model._meta,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )
