"""Events, endpoints and deliveries for staff to read. Secrets are never shown here: an endpoint
lists its URL, types and state, and changes only through its owner's services."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "owner", "status", "events", "created_at", "failing_since"]
    list_filter = ["status"]
    search_fields = ["url", "owner__username"]
    list_select_related = ["owner"]
    # Never "secret" nor "previous_secret".
    fields = [
        "owner",
        "url",
        "events",
        "description",
        "status",
        "created_at",
        "failing_since",
        "disabled_at",
        "previous_secret_expires_at",
    ]
    readonly_fields = fields


class DeliveryAttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["attempt", "at", "status_code", "error", "duration_ms", "next_attempt_at"]
    readonly_fields = fields
    show_change_link = False


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "event", "endpoint", "attempts", "next_attempt_at", "delivered_at"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["endpoint__url", "endpoint__owner__username"]
    fields = ["event", "endpoint", "created_at", "attempts", "next_attempt_at", "delivered_at"]
    readonly_fields = fields
    inlines = [DeliveryAttemptInline]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "user", "subject_model", "subject_id", "created_at"]
    list_filter = ["type"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    fields = ["user", "type", "created_at", "subject_model", "subject_id", "data"]
    readonly_fields = fields
