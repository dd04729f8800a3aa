"""The invariants of the ledger, checked against the rows themselves.

Used by ``manage.py check_ledger``; each check returns a list of problems naming the rows. Sums
and comparisons of amounts are taken in integer minor units (:class:`core.money.ExactSum`), so
they are exact on SQLite too.
"""

from __future__ import annotations

from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce

from core.money import ExactSum, MinorUnits, Thousandths, format_amount, money

from .models import Account, Entry, LedgerTransaction, Milestone


def unbalanced_transactions() -> list[str]:
    rows = (
        LedgerTransaction.objects.annotate(total=ExactSum("entries__amount"), legs=Count("entries"))
        .filter(Q(legs__lt=2) | ~Q(total=0))
        .order_by("pk")
    )
    return [
        f"Transaction #{row.pk} has {row.legs} entries summing to "
        f"{format_amount(row.total or 0, row.currency)} (must be 2 or more, summing to 0)"
        for row in rows
    ]


def mixed_currency_entries() -> list[str]:
    rows = (
        Entry.objects.exclude(account__currency=F("transaction__currency"))
        .select_related("account", "transaction")
        .order_by("pk")
    )
    return [
        f"Entry #{row.pk} of transaction #{row.transaction_id} is on account #{row.account_id} in "
        f"{row.account.currency}, not {row.transaction.currency}"
        for row in rows
    ]


def negative_balances() -> list[str]:
    rows = Account.objects.exclude(kind=Account.Kind.FUNDING).filter(balance__lt=0).order_by("pk")
    return [
        f"{row} has a negative balance {format_amount(row.balance, row.currency)}" for row in rows
    ]


def stale_balances() -> list[str]:
    rows = (
        Account.objects.annotate(
            total=Coalesce(ExactSum("entries__amount"), Value(0), output_field=Thousandths()),
            held=MinorUnits("balance"),
        )
        .exclude(held=F("total"))
        .order_by("pk")
    )
    return [
        f"{row} caches {format_amount(row.balance, row.currency)} but its entries sum to "
        f"{format_amount(row.total, row.currency)}"
        for row in rows
    ]


def closed_milestones_holding_money() -> list[str]:
    rows = (
        Milestone.objects.filter(status__in=Milestone.CLOSED)
        .exclude(escrow_account__balance=0)
        .select_related("escrow_account")
        .order_by("pk")
    )
    return [
        f"{row} is {row.status} but its escrow still holds "
        f"{money(row.escrow_account.balance, row.escrow_account.currency)}"
        for row in rows
    ]


CHECKS = {
    "every transaction sums to zero": unbalanced_transactions,
    "every entry is in its transaction's currency": mixed_currency_entries,
    "no account but a funding source is below zero": negative_balances,
    "cached balances equal the sum of entries": stale_balances,
    "a closed milestone holds nothing in escrow": closed_milestones_holding_money,
}


def run_checks() -> dict[str, list[str]]:
    return {name: check() for name, check in CHECKS.items()}
