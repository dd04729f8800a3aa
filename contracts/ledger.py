"""The one module that writes ledger rows.

Every movement of money is :func:`post`: it takes two or more legs ``(account, amount)`` that sum
to zero, locks the accounts in primary-key order (so two movements never deadlock), refuses to take
any account but a funding source below zero, writes the transaction and its entries, and moves the
cached balances with ``F()`` in the same database transaction. Callers hold the lock of the object
whose money moves (a milestone, a dispute) before they call it, and check their own rules first;
the checks here are the last line, not the only one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from core.errors import Conflict

from .models import Account, Entry, LedgerTransaction


class UnbalancedTransaction(ValueError):
    """The legs of a transaction do not sum to zero, or fewer than two were given."""


class CurrencyMismatch(ValueError):
    """A leg's account holds another currency than the transaction."""


class InsufficientFunds(Conflict):
    code = "insufficient_funds"
    default_message = "The account does not hold enough money for this movement."


@dataclass(frozen=True)
class Leg:
    account: Account
    amount: Decimal


def account_get_or_create(*, kind: str, currency: str, owner=None, now: datetime) -> Account:
    """Return the user's (or the platform's) account of this kind and currency."""
    if kind == Account.Kind.ESCROW:
        raise ValueError("escrow accounts are created with their milestone")
    lookup = {"kind": kind, "currency": currency, "owner": owner}
    account = Account.objects.filter(**lookup).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(**lookup, created_at=now)
    except IntegrityError:
        return Account.objects.get(**lookup)


def escrow_account_create(*, currency: str, now: datetime) -> Account:
    return Account.objects.create(kind=Account.Kind.ESCROW, currency=currency, created_at=now)


def post(
    *,
    kind: str,
    currency: str,
    legs: Sequence[Leg],
    now: datetime,
    memo: str = "",
    milestone=None,
    created_by=None,
) -> LedgerTransaction:
    """Write one balanced transaction and move the balances; return it.

    Raises UnbalancedTransaction or CurrencyMismatch for a programming error, and InsufficientFunds
    when an account other than a funding source would go below zero.
    """
    if len(legs) < 2:
        raise UnbalancedTransaction("a transaction needs at least two legs")
    if any(leg.amount == 0 for leg in legs):
        raise UnbalancedTransaction("a leg of zero moves nothing")
    if sum((leg.amount for leg in legs), Decimal(0)) != 0:
        raise UnbalancedTransaction("the legs do not sum to zero")
    if any(leg.account.currency != currency for leg in legs):
        raise CurrencyMismatch(f"every account of a {currency} transaction must hold {currency}")

    with transaction.atomic(savepoint=False):
        by_account: dict[int, Decimal] = {}
        for leg in legs:
            by_account[leg.account.pk] = by_account.get(leg.account.pk, Decimal(0)) + leg.amount
        locked = {
            account.pk: account
            for account in Account.objects.select_for_update()
            .filter(pk__in=by_account)
            .order_by("pk")
        }
        for pk, change in by_account.items():
            account = locked[pk]
            if account.kind != Account.Kind.FUNDING and account.balance + change < 0:
                raise InsufficientFunds(
                    f"{account.get_kind_display()} holds {account.balance} {currency}; "
                    f"it cannot pay out {-change}."
                )
        ledger_transaction = LedgerTransaction.objects.create(
            kind=kind,
            currency=currency,
            memo=memo[:255],
            milestone=milestone,
            created_by=created_by,
            created_at=now,
        )
        Entry.objects.bulk_create(
            Entry(transaction=ledger_transaction, account=leg.account, amount=leg.amount)
            for leg in legs
        )
        for pk, change in by_account.items():
            Account.objects.filter(pk=pk).update(balance=F("balance") + change)
            locked[pk].balance += change
        for leg in legs:
            leg.account.balance = locked[leg.account.pk].balance
    return ledger_transaction
