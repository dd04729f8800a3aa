"""Paying out money held for a refund request: the outcome of that request or its dispute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from types import SimpleNamespace

from accounts.models import User
from core.actions import perform
from core.errors import InvalidInput

from .. import ledger
from ..models import Account, LedgerTransaction, Milestone

MilestoneStatus = Milestone.Status
LIFECYCLE = Milestone.lifecycle


@dataclass(frozen=True)
class Settlement:
    """How all the money a HELD milestone's escrow holds is paid out."""

    milestone_id: int
    to_freelancer: Decimal
    to_client: Decimal

    @property
    def action(self) -> str:
        """settle_release (all to the freelancer), settle_refund (all back) or settle_split."""
        if self.to_client == 0:
            return "settle_release"
        if self.to_freelancer == 0:
            return "settle_refund"
        return "settle_split"


@dataclass(frozen=True)
class SettledMilestone:
    """What the callers of :func:`milestones_settle` need to tell the parties."""

    milestone_id: int
    title: str
    contract_id: int
    contract_title: str
    currency: str
    client_id: int
    freelancer_id: int


_TRANSACTION_KIND = {
    "settle_release": LedgerTransaction.Kind.RELEASE,
    "settle_refund": LedgerTransaction.Kind.REFUND,
    "settle_split": LedgerTransaction.Kind.SETTLEMENT,
}


def milestones_settle(
    *, settlements: list[Settlement], actor: User | None, now: datetime
) -> dict[int, SettledMilestone]:
    """Pay out the whole escrow of each HELD milestone: part to the freelancer, the rest back.

    The outcome of a refund request or dispute, whose service checked its own rules: the
    settle_* actions are the system's, taken for ``actor`` (recorded on the ledger), or for
    nobody when a deadline passed. Locks the milestones (in primary-key order) inside the
    caller's transaction. The shares must be non-negative and take exactly what the escrow
    holds, or nothing is written. Works on plain values, not model instances, so a deadline
    sweep settles a whole batch with a handful of statements.
    """
    if not settlements:
        return {}
    for s in settlements:
        if s.to_freelancer < 0 or s.to_client < 0:
            raise InvalidInput("A share cannot be negative.", code="invalid_amount")
    rows = {
        row[0]: row
        for row in Milestone.objects.select_for_update(of=("self",))
        .filter(pk__any=[s.milestone_id for s in settlements])
        .order_by("pk")
        .values_list(
            "pk",
            "status",
            "title",
            "escrow_account_id",
            "contract_id",
            "contract__title",
            "contract__currency",
            "contract__client_id",
            "contract__freelancer_id",
        )
    }
    settled = {pk: SettledMilestone(pk, *row[2:3], *row[4:]) for pk, row in rows.items()}
    # Stand-ins for the rows ``perform`` moves on: the state it checks, the parties it tells.
    states = {
        pk: SimpleNamespace(
            pk=pk, status=row[1], contract=SimpleNamespace(client_id=row[7], freelancer_id=row[8])
        )
        for pk, row in rows.items()
    }
    for s in settlements:
        LIFECYCLE.ensure_state(s.action, states[s.milestone_id])

    accounts: dict[tuple[str, str, int], int] = {}
    for currency in {m.currency for m in settled.values()}:
        of_currency = [s for s in settlements if settled[s.milestone_id].currency == currency]
        for kind, owners in (
            (
                Account.Kind.EARNINGS,
                {settled[s.milestone_id].freelancer_id for s in of_currency if s.to_freelancer},
            ),
            (
                Account.Kind.REFUNDS,
                {settled[s.milestone_id].client_id for s in of_currency if s.to_client},
            ),
        ):
            if owners:  # nobody paid this way: no account to find or open
                found = ledger.account_ids_get_or_create(
                    kind=kind, currency=currency, owner_ids=owners, now=now
                )
                accounts.update({(kind, currency, o): a for o, a in found.items()})

    movements = []
    for s in settlements:
        m = settled[s.milestone_id]
        legs = [ledger.Leg(rows[s.milestone_id][3], -(s.to_freelancer + s.to_client))]
        if s.to_freelancer:
            earnings = accounts[(Account.Kind.EARNINGS, m.currency, m.freelancer_id)]
            legs.append(ledger.Leg(earnings, s.to_freelancer))
        if s.to_client:
            legs.append(
                ledger.Leg(accounts[(Account.Kind.REFUNDS, m.currency, m.client_id)], s.to_client)
            )
        movements.append(
            ledger.Movement(
                kind=_TRANSACTION_KIND[s.action],
                currency=m.currency,
                legs=legs,
                memo=f"Settle milestone #{m.milestone_id}",
                milestone=m.milestone_id,
                created_by=actor,
            )
        )
    ledger.post_many(
        movements=movements, now=now, empties=[rows[s.milestone_id][3] for s in settlements]
    )

    by_action: dict[str, list[SimpleNamespace]] = {}
    for s in settlements:
        by_action.setdefault(s.action, []).append(states[s.milestone_id])
    for action, batch in by_action.items():
        extra = {"released_at": now} if action == "settle_release" else {}
        perform(LIFECYCLE, action, batch, now=now, values={"closed_at": now, **extra})
    return settled
