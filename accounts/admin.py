from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "is_staff", "time_zone", "suspended_at"]
    list_filter = [*BaseUserAdmin.list_filter, "suspended_at"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Marketplace", {"fields": ["time_zone", "suspended_at", "suspension_reason"]}),
    ]
    readonly_fields = ["suspended_at", "suspension_reason"]
