"""Settlement offers in the admin: read-only, like every row money touches (``core.admin``)."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin, amount_column

from .models import Offer


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "dispute",
        "by",
        "made_by",
        amount_column("to_freelancer"),
        amount_column("to_client"),
        "currency",
        "status",
        "created_at",
        "response_due_at",
        "answered_at",
    ]
    list_filter = ["status", "by", "currency"]
    list_select_related = ["dispute", "made_by"]
    search_fields = ["=dispute__id", "made_by__username"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "dispute",
        "by",
        "made_by",
        "currency",
        "to_freelancer",
        "to_client",
        "message",
        "status",
        "created_at",
        "response_due_at",
        "answered_at",
        "answered_by",
        "reason",
    ]
