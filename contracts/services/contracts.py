"""Opening a contract, adding its milestones, and ending it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import user_ensure_can_act
from core import deadlines
from core.actions import Event, perform, record_created, service
from core.errors import InvalidInput
from core.money import currency_places, format_amount, money, parse_amount

from .. import ledger, timeline
from ..models import Contract, ContractEvent, Milestone
from .common import ensure_currency, lock_milestones, required_text
from .milestones import milestones_release

Kind = ContractEvent.Kind
MilestoneStatus = Milestone.Status


@service
def contract_create(
    *, client: User, freelancer: User, title: str, currency: str, now: datetime
) -> Contract:
    """Open a fixed-price contract between ``client`` and ``freelancer``."""
    user_ensure_can_act(user=client)
    title = required_text(title, field="title", label="A title", max_length=200)
    currency = (currency or "").strip().upper()
    currency_places(currency)
    if freelancer.pk == client.pk:
        raise InvalidInput(
            "You cannot hire yourself.",
            code="invalid_freelancer",
            fields={"freelancer": ["Choose another user as the freelancer."]},
        )
    contract = Contract.objects.create(
        client=client, freelancer=freelancer, title=title, currency=currency, created_at=now
    )
    timeline.write(
        [(contract, Event(Kind.CONTRACT_CREATED, note=f"{client} hired {freelancer}."))],
        actor=client,
        now=now,
    )
    record_created(Contract.lifecycle, contract, now=now)
    return contract


@service
def milestone_create(
    *,
    contract: Contract,
    actor: User,
    title: str,
    description: str = "",
    amount: object,
    due_date: date | None = None,
    currency: str | None = None,
    now: datetime,
) -> Milestone:
    """Add a milestone awaiting funding to an active contract."""
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    Contract.lifecycle.check("add_milestone", contract, user=actor, now=now)
    title = required_text(title, field="title", label="A title", max_length=200)
    ensure_currency(contract=contract, currency=currency)
    value = parse_amount(amount, currency=contract.currency)
    milestone = Milestone.objects.create(
        contract=contract,
        title=title,
        description=(description or "").strip(),
        amount=value,
        due_date=due_date,
        escrow_account=ledger.escrow_account_create(currency=contract.currency, now=now),
        created_at=now,
    )
    perform(
        Contract.lifecycle,
        "add_milestone",
        contract,
        user=actor,
        now=now,
        checked=True,
        event=Event(
            Kind.MILESTONE_ADDED,
            note=f"{actor} added “{title}” of {money(value, contract.currency)}.",
            amounts={"amount": format_amount(value, contract.currency)},
            refs={"milestone_id": milestone.pk},
        ),
    )
    return milestone


@dataclass(frozen=True)
class HeldMilestone:
    """A milestone whose contract ended with money left in its escrow."""

    milestone: Milestone
    escrowed: Decimal  # E: what escrow held when the contract ended
    paid: Decimal  # P: what the client paid on ending
    remaining: Decimal  # R = E - P: what the refund request is for


@service
def contract_end(
    *, contract: Contract, actor: User, payments: Mapping[int, object], now: datetime
) -> list[HeldMilestone]:
    """End an active contract, paying ``payments[milestone_id]`` of each milestone's escrow.

    Submitted work whose auto-release fell due is released to the freelancer by its deadline
    first, whatever the client pays for it (a payment named for it is moot). Each other payment
    P (0 <= P <= E, default 0) is released at once. A milestone paid in full becomes RELEASED;
    one with money left becomes HELD and is returned, for its refund request. Milestones never
    funded are CANCELLED. Nothing changes unless every payment is valid.
    """
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    Contract.lifecycle.check("end", contract, user=actor, now=now)
    ids = list(
        Milestone.objects.filter(contract=contract).order_by("pk").values_list("pk", flat=True)
    )
    milestones = lock_milestones(milestone_ids=ids)
    # What the milestones' own passed deadlines did comes first (a due auto-release).
    released_by_deadline = {m.pk for m in milestones.values() if deadlines.catch_up(m, now=now)}
    if released_by_deadline:
        milestones = lock_milestones(milestone_ids=ids)
    for m in milestones.values():
        m.contract = contract
    holding = {pk: m for pk, m in milestones.items() if m.status in Milestone.HOLDING}

    paid: dict[int, Decimal] = {}
    for key, raw in payments.items():
        field = f"payments.{key}"
        milestone = holding.get(_as_int(key))
        if milestone is None:
            if _as_int(key) in released_by_deadline:
                continue
            message = "This milestone has no money in escrow on this contract."
            raise InvalidInput(message, code="invalid_milestone", fields={field: [message]})
        amount = parse_amount(raw, currency=contract.currency, field=field, allow_zero=True)
        if amount > milestone.escrow_balance:
            message = (
                f"Only {money(milestone.escrow_balance, contract.currency)} is held in escrow for "
                f"“{milestone.title}”."
            )
            raise InvalidInput(message, code="amount_above_escrow", fields={field: [message]})
        paid[milestone.pk] = amount

    held = [
        HeldMilestone(
            milestone=m,
            escrowed=m.escrow_balance,
            paid=paid.get(m.pk, Decimal(0)),
            remaining=m.escrow_balance - paid.get(m.pk, Decimal(0)),
        )
        for m in holding.values()
    ]
    milestones_release(
        releases=[(h.milestone, h.paid) for h in held if h.paid > 0], now=now, actor=actor
    )
    held = [h for h in held if h.remaining > 0]
    currency = contract.currency
    shown = {h.milestone.pk: h for h in held}
    perform(
        Milestone.lifecycle,
        "hold",
        [h.milestone for h in held],
        user=actor,
        now=now,
        values=deadlines.kind("auto_release", Milestone).disarm(),
        event=lambda m: Event(
            Kind.MILESTONE_HELD,
            note=(
                f"{money(shown[m.pk].remaining, currency)} of “{m.title}” stays in escrow for "
                "the refund request."
            ),
            amounts={
                "escrowed": format_amount(shown[m.pk].escrowed, currency),
                "paid": format_amount(shown[m.pk].paid, currency),
                "refund_requested": format_amount(shown[m.pk].remaining, currency),
            },
        ),
    )
    perform(
        Milestone.lifecycle,
        "cancel",
        [m for m in milestones.values() if m.status == MilestoneStatus.PENDING],
        user=actor,
        now=now,
        values={"closed_at": now},
        event=Event(Kind.MILESTONE_CANCELLED, note="Never funded: cancelled with the contract."),
    )
    perform(
        Contract.lifecycle,
        "end",
        contract,
        user=actor,
        now=now,
        checked=True,
        values={"ended_at": now},
        event=Event(Kind.CONTRACT_ENDED, note=f"{actor} ended the contract."),
    )
    return held


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
