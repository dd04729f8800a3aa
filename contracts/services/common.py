"""Locks and input checks every contract service shares."""

from __future__ import annotations

from core.errors import InvalidInput

from ..models import Account, Contract, Milestone


def lock_milestones(*, milestone_ids: list[int]) -> dict[int, Milestone]:
    """Lock milestone rows (and only them) in primary-key order, for the rest of the transaction.

    Escrow accounts are read after the locks are held, never joined into the locking query:
    PostgreSQL re-reads only the locked rows when a waiter wakes, so a joined balance would be
    the one from before the other transaction committed.
    """
    milestones = list(
        Milestone.objects.select_for_update(of=("self",))
        .select_related("contract")
        .filter(pk__in=milestone_ids)
        .order_by("pk")
    )
    escrows = Account.objects.in_bulk([m.escrow_account_id for m in milestones])
    for m in milestones:
        m.escrow_account = escrows[m.escrow_account_id]
    return {m.pk: m for m in milestones}


def lock_milestone(*, milestone_id: int) -> Milestone:
    """Lock one milestone row (see :func:`lock_milestones`)."""
    try:
        return lock_milestones(milestone_ids=[milestone_id])[milestone_id]
    except KeyError:
        raise Milestone.DoesNotExist(f"Milestone #{milestone_id} does not exist.") from None


def ensure_currency(*, contract: Contract, currency: str | None) -> None:
    """Refuse an amount sent in another currency than the contract's."""
    if currency is not None and currency.strip().upper() != contract.currency:
        message = f"This contract is in {contract.currency}."
        raise InvalidInput(message, code="currency_mismatch", fields={"currency": [message]})


def required_text(value: str, *, field: str, label: str, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label} is required.", fields={field: [f"{label} is required."]})
    if max_length is not None and len(text) > max_length:
        message = f"{label} may be at most {max_length} characters."
        raise InvalidInput(message, fields={field: [message]})
    return text
