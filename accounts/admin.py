from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.shortcuts import render
from django.utils import timezone

from . import services
from .models import User


class SuspendForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea, label="Reason (the user reads it)")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_staff", "time_zone", "suspended_at"]
    list_filter = [*BaseUserAdmin.list_filter, "suspended_at"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Marketplace", {"fields": ["time_zone", "suspended_at", "suspension_reason"]}),
    ]
    readonly_fields = ["suspended_at", "suspension_reason"]
    actions = ["suspend", "reinstate"]

    @admin.action(description="Suspend the selected accounts (read-only until reinstated)")
    def suspend(self, request, queryset):
        form = SuspendForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            for user in queryset.order_by("pk"):
                services.user_suspend(
                    user=user,
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                    now=timezone.now(),
                )
            self.message_user(
                request, f"Suspended {queryset.count()} account(s).", messages.SUCCESS
            )
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
        for user in queryset.order_by("pk"):
            services.user_reinstate(user=user, actor=request.user, now=timezone.now())
        self.message_user(request, f"Reinstated {queryset.count()} account(s).", messages.SUCCESS)
