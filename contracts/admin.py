from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin, ReadOnlyInline, amount_column
from core.money import ExactSum, format_amount, money

from .models import (
    Account,
    Contract,
    Entry,
    LedgerTransaction,
    Milestone,
    Submission,
    SubmissionFile,
)


class MilestoneInline(ReadOnlyInline):
    model = Milestone
    amount_currency = "escrow_account.currency"
    fields = ["title", "amount", "status", "escrow_balance", "due_date", "funded_at"]
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("escrow_account")

    @admin.display(description="In escrow")
    def escrow_balance(self, obj):
        return money(obj.escrow_account.balance, obj.escrow_account.currency)


@admin.register(Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["id", "title", "client", "freelancer", "currency", "status", "created_at"]
    list_filter = ["status", "currency"]
    search_fields = ["title", "client__username", "freelancer__username"]
    list_select_related = ["client", "freelancer"]
    inlines = [MilestoneInline]
    date_hierarchy = "created_at"


class SubmissionInline(ReadOnlyInline):
    model = Submission
    fields = ["submitted_at", "submitted_by", "message"]
    readonly_fields = fields


class LedgerTransactionInline(ReadOnlyInline):
    model = LedgerTransaction
    fields = ["created_at", "kind", "memo", "created_by"]
    readonly_fields = fields


@admin.register(Milestone)
class MilestoneAdmin(ReadOnlyAdmin):
    amount_currency = "escrow_account.currency"
    list_display = [
        "id",
        "title",
        "contract",
        amount_column("amount", currency="escrow_account.currency"),
        "escrow_balance",
        "status",
        "due_date",
    ]
    list_filter = ["status"]
    search_fields = ["title", "contract__title"]
    list_select_related = ["contract", "escrow_account"]
    inlines = [SubmissionInline, LedgerTransactionInline]

    @admin.display(description="In escrow")
    def escrow_balance(self, obj):
        return money(obj.escrow_account.balance, obj.escrow_account.currency)


class SubmissionFileInline(ReadOnlyInline):
    model = SubmissionFile
    fields = ["name", "content_type", "size", "sha256", "download"]
    readonly_fields = fields

    @admin.display(description="Download")
    def download(self, obj):
        return format_html('<a href="{}">Download</a>', obj.get_absolute_url())


@admin.register(Submission)
class SubmissionAdmin(ReadOnlyAdmin):
    list_display = ["id", "milestone", "submitted_by", "submitted_at"]
    list_select_related = ["milestone", "submitted_by"]
    inlines = [SubmissionFileInline]


class EntryInline(ReadOnlyInline):
    model = Entry
    amount_currency = "account.currency"
    fields = ["account", "amount"]
    readonly_fields = fields
    show_change_link = False


@admin.register(LedgerTransaction)
class LedgerTransactionAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "kind",
        "currency",
        "total_moved",
        "milestone",
        "created_by",
    ]
    list_filter = ["kind", "currency"]
    list_select_related = ["milestone", "created_by"]
    inlines = [EntryInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(_moved=ExactSum("entries__amount", filter=Q(entries__amount__gt=0)))
        )

    @admin.display(description="Amount moved")
    def total_moved(self, obj):
        return format_amount(obj._moved, obj.currency) if obj._moved is not None else "-"


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "owner", "currency", amount_column("balance"), "created_at"]
    list_filter = ["kind", "currency"]
    search_fields = ["owner__username"]
    list_select_related = ["owner"]


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    amount_currency = "account.currency"
    list_display = [
        "id",
        "transaction",
        "account",
        amount_column("amount", currency="account.currency"),
    ]
    list_select_related = ["transaction", "account__owner"]
