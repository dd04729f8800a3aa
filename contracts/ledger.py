"""The one module that writes ledger rows.

Every movement of money is :func:`post` (or :func:`post_many` for a batch): it takes two or more
legs ``(account, amount)`` that sum to zero, locks the accounts in primary-key order (so two
movements never deadlock), refuses to take any account but a funding source below zero, writes the
transaction and its entries, and moves the cached balances in the same database transaction.
Callers hold the lock of the object whose money moves (a milestone, a dispute) before they call
it, and check their own rules first; the checks here are the last line, not the only one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, connection, transaction

from core.errors import Conflict
from core.money import money

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
    """One side of a movement: an account (the row, or just its id) and a signed amount."""

    account: Account | int
    amount: Decimal

    @property
    def account_id(self) -> int:
        return self.account if isinstance(self.account, int) else self.account.pk


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


def accounts_get_or_create(
    *, kind: str, currency: str, owner_ids: set[int], now: datetime
) -> dict[int, Account]:
    """Return each owner's account of this kind and currency, creating the missing ones at once."""
    found = {
        a.owner_id: a
        for a in Account.objects.filter(kind=kind, currency=currency, owner_id__in=owner_ids)
    }
    missing = owner_ids - found.keys()
    if missing:
        Account.objects.bulk_create(
            [
                Account(kind=kind, currency=currency, owner_id=owner_id, created_at=now)
                for owner_id in missing
            ],
            ignore_conflicts=True,
        )
        found.update(
            (a.owner_id, a)
            for a in Account.objects.filter(kind=kind, currency=currency, owner_id__in=missing)
        )
    return found


def account_ids_get_or_create(
    *, kind: str, currency: str, owner_ids: set[int], now: datetime
) -> dict[int, int]:
    """Like :func:`accounts_get_or_create`, returning only the account ids, by owner."""
    owners = sorted(owner_ids)
    if connection.vendor == "postgresql":
        # One statement opens the missing accounts, one reads them all: no model instances.
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO contracts_account (kind, currency, balance, created_at, owner_id)"
                " SELECT %s, %s, 0, %s, owner FROM unnest(%s::bigint[]) AS owner"
                " ON CONFLICT (kind, owner_id, currency) WHERE owner_id IS NOT NULL DO NOTHING",
                [kind, currency, now, owners],
            )
            cursor.execute(
                "SELECT owner_id, id FROM contracts_account"
                " WHERE kind = %s AND currency = %s AND owner_id = ANY(%s)",
                [kind, currency, owners],
            )
            return dict(cursor.fetchall())
    query = Account.objects.filter(kind=kind, currency=currency)
    found = dict(query.filter(owner_id__in=owners).values_list("owner_id", "pk"))
    missing = owner_ids - found.keys()
    if missing:
        Account.objects.bulk_create(
            [
                Account(kind=kind, currency=currency, owner_id=owner_id, created_at=now)
                for owner_id in missing
            ],
            ignore_conflicts=True,
        )
        found.update(query.filter(owner_id__in=missing).values_list("owner_id", "pk"))
    return found


def escrow_account_create(*, currency: str, now: datetime) -> Account:
    return Account.objects.create(kind=Account.Kind.ESCROW, currency=currency, created_at=now)


@dataclass(frozen=True)
class Movement:
    """One transaction to write: its legs must sum to zero, all in ``currency``."""

    kind: str
    currency: str
    legs: Sequence[Leg]
    memo: str = ""
    milestone: object = None
    created_by: object = None

    def validate(self) -> None:
        if len(self.legs) < 2:
            raise UnbalancedTransaction("a transaction needs at least two legs")
        if any(leg.amount == 0 for leg in self.legs):
            raise UnbalancedTransaction("a leg of zero moves nothing")
        if sum((leg.amount for leg in self.legs), Decimal(0)) != 0:
            raise UnbalancedTransaction("the legs do not sum to zero")


class EscrowNotEmptied(Conflict):
    code = "escrow_not_emptied"
    default_message = "The payout does not take exactly what the escrow holds."


def post_many(
    *, movements: Sequence[Movement], now: datetime, empties: Iterable[int] = ()
) -> list[int]:
    """Write many balanced transactions at once and move the balances; return their ids in order.

    All accounts are locked together in primary-key order, each account's balance moves once by
    the sum of its legs, and the rows are written with one INSERT per table: this is how a
    deadline sweep settles thousands of rows per second. The accounts whose ids are in
    ``empties`` must hold exactly nothing afterwards (an escrow paid out in full). Raises like
    :func:`post`, or EscrowNotEmptied; then nothing of the batch is written.
    """
    for movement in movements:
        movement.validate()
    if not movements:
        return []

    with transaction.atomic(savepoint=False):
        changes: dict[int, Decimal] = {}
        for movement in movements:
            for leg in movement.legs:
                changes[leg.account_id] = changes.get(leg.account_id, Decimal(0)) + leg.amount
        locked = {
            pk: (kind, currency, balance)
            for pk, kind, currency, balance in Account.objects.select_for_update()
            .filter(pk__any=list(changes))
            .order_by("pk")
            .values_list("pk", "kind", "currency", "balance")
        }
        for movement in movements:
            if any(locked[leg.account_id][1] != movement.currency for leg in movement.legs):
                raise CurrencyMismatch(
                    f"every account of a {movement.currency} transaction must hold "
                    f"{movement.currency}"
                )
        balances = {pk: locked[pk][2] + change for pk, change in changes.items()}
        for pk, balance in balances.items():
            kind, currency, held = locked[pk]
            if kind != Account.Kind.FUNDING and balance < 0:
                raise InsufficientFunds(
                    f"{Account.Kind(kind).label} holds {money(held, currency)}; "
                    f"it cannot pay out {money(held - balance, currency)}."
                )
        for pk in empties:
            if balances.get(pk, locked.get(pk, (None, None, None))[2]) != 0:
                raise EscrowNotEmptied()
        if connection.vendor == "postgresql":
            written = _write_postgresql(movements, changes, now)
        else:
            written = _write_portable(movements, balances, now)
        for movement in movements:
            for leg in movement.legs:
                if isinstance(leg.account, Account):
                    leg.account.balance = balances[leg.account_id]
    return written


def _write_portable(movements, balances, now) -> list[int]:
    """Write the rows with the ORM: one INSERT per table, then the balances.

    Each balance is set to the value computed here, in Decimal, under the accounts' lock: never
    ``balance + change`` in SQL, which SQLite would compute in binary floating point.
    """
    written = LedgerTransaction.objects.bulk_create(
        LedgerTransaction(
            kind=movement.kind,
            currency=movement.currency,
            memo=movement.memo[:255],
            milestone_id=getattr(movement.milestone, "pk", movement.milestone),
            created_by_id=getattr(movement.created_by, "pk", movement.created_by),
            created_at=now,
        )
        for movement in movements
    )
    Entry.objects.bulk_create(
        Entry(transaction=ledger_transaction, account_id=leg.account_id, amount=leg.amount)
        for ledger_transaction, movement in zip(written, movements, strict=True)
        for leg in movement.legs
    )
    for pk, balance in balances.items():
        Account.objects.filter(pk=pk).update(balance=balance)
    return [row.pk for row in written]


def _write_postgresql(movements, changes, now) -> list[int]:
    """Write the same rows as :func:`_write_portable` with three statements over arrays.

    The transactions' ids are drawn from their sequence first, so the entries can name them
    without relying on the order of RETURNING; the balances move by their sums in one UPDATE.
    """
    count = len(movements)
    milestone_ids = [getattr(m.milestone, "pk", m.milestone) for m in movements]
    creator_ids = [getattr(m.created_by, "pk", m.created_by) for m in movements]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence('contracts_ledgertransaction', 'id'))"
            " FROM generate_series(1, %s)",
            [count],
        )
        ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            "INSERT INTO contracts_ledgertransaction"
            " (id, kind, currency, memo, milestone_id, created_by_id, created_at)"
            " SELECT u.id, u.kind, u.currency, u.memo, u.milestone_id, u.created_by_id, %s"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::bigint[],"
            " %s::bigint[]) AS u(id, kind, currency, memo, milestone_id, created_by_id)",
            [
                now,
                ids,
                [m.kind for m in movements],
                [m.currency for m in movements],
                [m.memo[:255] for m in movements],
                milestone_ids,
                creator_ids,
            ],
        )
        legs = [(tx_id, leg) for tx_id, m in zip(ids, movements, strict=True) for leg in m.legs]
        cursor.execute(
            "INSERT INTO contracts_entry (transaction_id, account_id, amount)"
            " SELECT * FROM unnest(%s::bigint[], %s::bigint[], %s::numeric[])",
            [
                [tx_id for tx_id, _ in legs],
                [leg.account_id for _, leg in legs],
                [leg.amount for _, leg in legs],
            ],
        )
        moved = [(pk, change) for pk, change in changes.items() if change != 0]
        cursor.execute(
            "UPDATE contracts_account AS a SET balance = a.balance + u.change"
            " FROM unnest(%s::bigint[], %s::numeric[]) AS u(id, change) WHERE a.id = u.id",
            [[pk for pk, _ in moved], [change for _, change in moved]],
        )
    return ids


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
    movement = Movement(
        kind=kind,
        currency=currency,
        legs=legs,
        memo=memo,
        milestone=milestone,
        created_by=created_by,
    )
    (written,) = post_many(movements=[movement], now=now)
    return LedgerTransaction.objects.get(pk=written)
