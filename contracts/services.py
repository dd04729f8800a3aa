"""Everything that changes a contract, a milestone or the money in its escrow.

Each function is one database transaction that locks the milestone it changes before it reads
its state, checks the state against the milestone's table of allowed transitions, and raises a
named error (changing nothing) when the action is not allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import Message, notifications_send, user_ensure_can_act
from core import deadlines
from core.errors import Conflict, InvalidInput, NotAllowed
from core.money import currency_places, format_amount, parse_amount
from core.transitions import ensure_transition
from core.uploads import check_uploads

from . import ledger
from .models import Account, Contract, LedgerTransaction, Milestone, Submission, SubmissionFile

MilestoneStatus = Milestone.Status


AUTO_RELEASE_REMINDER_FIELDS = {
    48: "auto_release_reminded_48h_at",
    24: "auto_release_reminded_24h_at",
}


class NotTheClient(NotAllowed):
    code = "not_the_client"
    default_message = "Only the contract's client can take this action."


class NotTheFreelancer(NotAllowed):
    code = "not_the_freelancer"
    default_message = "Only the contract's freelancer can take this action."


class ContractEnded(Conflict):
    code = "contract_ended"
    default_message = "This contract has ended; it takes no new milestones."


def _ensure_currency(*, contract: Contract, currency: str | None) -> None:
    """Refuse an amount sent in another currency than the contract's."""
    if currency is not None and currency.strip().upper() != contract.currency:
        message = f"This contract is in {contract.currency}."
        raise InvalidInput(message, code="currency_mismatch", fields={"currency": [message]})


def _ensure_client(*, contract: Contract, actor: User) -> None:
    user_ensure_can_act(user=actor)
    if actor.pk != contract.client_id:
        raise NotTheClient()


def _ensure_freelancer(*, contract: Contract, actor: User) -> None:
    user_ensure_can_act(user=actor)
    if actor.pk != contract.freelancer_id:
        raise NotTheFreelancer()


def lock_milestone(*, milestone_id: int) -> Milestone:
    """Lock one milestone row (see :func:`lock_milestones`)."""
    try:
        return lock_milestones(milestone_ids=[milestone_id])[milestone_id]
    except KeyError:
        raise Milestone.DoesNotExist(f"Milestone #{milestone_id} does not exist.") from None


def _ensure_milestone_transition(milestone: Milestone, target: str) -> None:
    ensure_transition(
        Milestone.TRANSITIONS, model="milestone", current=milestone.status, target=target
    )


def _required_text(value: str, *, field: str, label: str, max_length: int | None = None) -> str:
    text = (value or "").strip()
    if not text:
        raise InvalidInput(f"{label} is required.", fields={field: [f"{label} is required."]})
    if max_length is not None and len(text) > max_length:
        message = f"{label} may be at most {max_length} characters."
        raise InvalidInput(message, fields={field: [message]})
    return text


@transaction.atomic
def contract_create(
    *, client: User, freelancer: User, title: str, currency: str, now: datetime
) -> Contract:
    """Open a fixed-price contract between ``client`` and ``freelancer``."""
    user_ensure_can_act(user=client)
    title = _required_text(title, field="title", label="A title", max_length=200)
    currency = (currency or "").strip().upper()
    currency_places(currency)
    if freelancer.pk == client.pk:
        raise InvalidInput(
            "You cannot hire yourself.",
            code="invalid_freelancer",
            fields={"freelancer": ["Choose another user as the freelancer."]},
        )
    return Contract.objects.create(
        client=client, freelancer=freelancer, title=title, currency=currency, created_at=now
    )


@transaction.atomic
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
    _ensure_client(contract=contract, actor=actor)
    if contract.status != Contract.Status.ACTIVE:
        raise ContractEnded()
    title = _required_text(title, field="title", label="A title", max_length=200)
    _ensure_currency(contract=contract, currency=currency)
    value = parse_amount(amount, currency=contract.currency)
    return Milestone.objects.create(
        contract=contract,
        title=title,
        description=(description or "").strip(),
        amount=value,
        due_date=due_date,
        escrow_account=ledger.escrow_account_create(currency=contract.currency, now=now),
        created_at=now,
    )


@transaction.atomic
def milestone_fund(
    *, milestone: Milestone, actor: User, currency: str | None = None, now: datetime
) -> LedgerTransaction:
    """Move the milestone's amount from the client's funding source into its escrow."""
    milestone = lock_milestone(milestone_id=milestone.pk)
    contract = milestone.contract
    _ensure_client(contract=contract, actor=actor)
    _ensure_currency(contract=contract, currency=currency)
    _ensure_milestone_transition(milestone, MilestoneStatus.FUNDED)
    funding = ledger.account_get_or_create(
        kind=Account.Kind.FUNDING, currency=contract.currency, owner=contract.client, now=now
    )
    movement = ledger.post(
        kind=LedgerTransaction.Kind.FUNDING,
        currency=contract.currency,
        legs=[
            ledger.Leg(funding, -milestone.amount),
            ledger.Leg(milestone.escrow_account, milestone.amount),
        ],
        memo=f"Fund milestone #{milestone.pk}",
        milestone=milestone,
        created_by=actor,
        now=now,
    )
    milestone.status = MilestoneStatus.FUNDED
    milestone.funded_at = now
    milestone.save(update_fields=["status", "funded_at"])
    notifications_send(
        messages=[
            Message(
                user_id=contract.freelancer_id,
                kind="milestone_funded",
                title=f"“{milestone.title}” is funded",
                body=(
                    f"{format_amount(milestone.amount, contract.currency)} {contract.currency} "
                    f"is held in escrow for “{milestone.title}” on “{contract.title}”."
                ),
                url=contract.get_absolute_url(),
            )
        ],
        now=now,
    )
    return movement


@transaction.atomic
def milestone_submit(
    *, milestone: Milestone, actor: User, message: str, files: list | None = None, now: datetime
) -> Submission:
    """Record the freelancer's delivered work; files are checked by content before any is kept."""
    message = _required_text(message, field="message", label="A message", max_length=10_000)
    checked = check_uploads(list(files or []))
    milestone = lock_milestone(milestone_id=milestone.pk)
    _ensure_freelancer(contract=milestone.contract, actor=actor)
    _ensure_milestone_transition(milestone, MilestoneStatus.SUBMITTED)
    submission = Submission.objects.create(
        milestone=milestone, submitted_by=actor, message=message, submitted_at=now
    )
    for upload in checked:
        stored = SubmissionFile(
            submission=submission,
            name=upload.name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
        )
        stored.file.save(upload.storage_name("submissions"), upload.file, save=False)
        # A rollback after this point leaves an orphaned file, never a row without its file.
        stored.save()
    due_at = now + settings.AUTO_RELEASE_PERIOD
    milestone.status = MilestoneStatus.SUBMITTED
    milestone.submitted_at = now
    milestone.auto_release_due_at = due_at
    covered = deadlines.reminders_already_covered(
        due_at=due_at, now=now, fields=AUTO_RELEASE_REMINDER_FIELDS
    )
    for field, value in covered.items():
        setattr(milestone, field, value)
    milestone.save(update_fields=["status", "submitted_at", "auto_release_due_at", *covered])
    contract = milestone.contract
    notifications_send(
        messages=[
            Message(
                user_id=contract.client_id,
                kind="work_submitted",
                title=f"Work submitted for “{milestone.title}”",
                body=(
                    f"{contract.freelancer} submitted work on “{contract.title}”. Release the "
                    f"payment or end the contract; otherwise the escrow is released to the "
                    f"freelancer automatically on {due_at:%Y-%m-%d %H:%M} UTC."
                ),
                url=contract.get_absolute_url(),
            )
        ],
        now=now,
    )
    return submission


def _release_many(
    *, releases: list[tuple[Milestone, Decimal]], now: datetime, actor: User | None
) -> list[LedgerTransaction]:
    """Release each ``(milestone, amount)`` of locked milestones to their freelancers.

    A milestone whose escrow is empty afterwards becomes RELEASED; the freelancer is told.
    """
    if not releases:
        return []
    earnings: dict[tuple[str, int], Account] = {}
    for currency in {m.contract.currency for m, _ in releases}:
        owners = {m.contract.freelancer_id for m, _ in releases if m.contract.currency == currency}
        found = ledger.accounts_get_or_create(
            kind=Account.Kind.EARNINGS, currency=currency, owner_ids=owners, now=now
        )
        earnings.update({(currency, owner): account for owner, account in found.items()})
    written = ledger.post_many(
        movements=[
            ledger.Movement(
                kind=LedgerTransaction.Kind.RELEASE,
                currency=m.contract.currency,
                legs=[
                    ledger.Leg(m.escrow_account, -amount),
                    ledger.Leg(earnings[(m.contract.currency, m.contract.freelancer_id)], amount),
                ],
                memo=f"Release from milestone #{m.pk}",
                milestone=m,
                created_by=actor,
            )
            for m, amount in releases
        ],
        now=now,
    )
    emptied = [m for m, _ in releases if m.escrow_account.balance == 0]
    for m in emptied:
        _ensure_milestone_transition(m, MilestoneStatus.RELEASED)
        m.status = MilestoneStatus.RELEASED
        m.released_at = m.closed_at = now
    Milestone.objects.filter(pk__in=[m.pk for m in emptied]).update(
        status=MilestoneStatus.RELEASED, released_at=now, closed_at=now
    )
    by = "automatically" if actor is None else f"by {actor}"
    notifications_send(
        messages=[
            Message(
                user_id=m.contract.freelancer_id,
                kind="payment_released",
                title=f"Payment released for “{m.title}”",
                body=(
                    f"{format_amount(amount, m.contract.currency)} {m.contract.currency} was "
                    f"released to you {by} on “{m.contract.title}”."
                ),
                url=m.contract.get_absolute_url(),
            )
            for m, amount in releases
        ],
        now=now,
    )
    return list(LedgerTransaction.objects.filter(pk__in=written).order_by("pk"))


@transaction.atomic
def milestone_release(
    *,
    milestone: Milestone,
    actor: User,
    amount: object = None,
    currency: str | None = None,
    now: datetime,
) -> LedgerTransaction:
    """Release all (``amount=None``) or part of the milestone's escrow to the freelancer.

    When nothing is left in escrow the milestone becomes RELEASED; after a partial release it
    keeps its state with the smaller escrow.
    """
    milestone = lock_milestone(milestone_id=milestone.pk)
    contract = milestone.contract
    _ensure_client(contract=contract, actor=actor)
    _ensure_currency(contract=contract, currency=currency)
    _ensure_milestone_transition(milestone, MilestoneStatus.RELEASED)
    held = milestone.escrow_account.balance
    if amount is None or amount == "":
        value = held
    else:
        value = parse_amount(amount, currency=contract.currency)
    if value > held:
        message = f"Only {held} {contract.currency} is held in escrow for this milestone."
        raise InvalidInput(message, code="amount_above_escrow", fields={"amount": [message]})
    return _release_many(releases=[(milestone, value)], now=now, actor=actor)[0]


@dataclass(frozen=True)
class HeldMilestone:
    """A milestone whose contract ended with money left in its escrow."""

    milestone: Milestone
    escrowed: Decimal  # E: what escrow held when the contract ended
    paid: Decimal  # P: what the client paid on ending
    remaining: Decimal  # R = E - P: what the refund request is for


@transaction.atomic
def contract_end(
    *, contract: Contract, actor: User, payments: Mapping[int, object], now: datetime
) -> list[HeldMilestone]:
    """End an active contract, paying ``payments[milestone_id]`` of each milestone's escrow.

    Each payment P (0 <= P <= E, default 0) is released at once. A milestone paid in full becomes
    RELEASED; one with money left becomes HELD and is returned, for its refund request. Milestones
    never funded are CANCELLED. Nothing changes unless every payment is valid.
    """
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    _ensure_client(contract=contract, actor=actor)
    ensure_transition(
        Contract.TRANSITIONS,
        model="contract",
        current=contract.status,
        target=Contract.Status.ENDED,
    )
    milestones = list(
        Milestone.objects.select_for_update(of=("self",)).filter(contract=contract).order_by("pk")
    )
    escrows = {
        a.pk: a for a in Account.objects.filter(pk__in=[m.escrow_account_id for m in milestones])
    }
    holding = {}
    for m in milestones:
        m.contract = contract
        m.escrow_account = escrows[m.escrow_account_id]
        if m.status in {MilestoneStatus.FUNDED, MilestoneStatus.SUBMITTED}:
            holding[m.pk] = m

    paid: dict[int, Decimal] = {}
    for key, raw in payments.items():
        field = f"payments.{key}"
        milestone = holding.get(_as_int(key))
        if milestone is None:
            message = "This milestone has no money in escrow on this contract."
            raise InvalidInput(message, code="invalid_milestone", fields={field: [message]})
        amount = parse_amount(raw, currency=contract.currency, field=field, allow_zero=True)
        if amount > milestone.escrow_balance:
            message = (
                f"Only {milestone.escrow_balance} {contract.currency} is held in escrow for "
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
    _release_many(
        releases=[(h.milestone, h.paid) for h in held if h.paid > 0], now=now, actor=actor
    )
    held = [h for h in held if h.remaining > 0]
    for h in held:
        _ensure_milestone_transition(h.milestone, MilestoneStatus.HELD)
        h.milestone.status = MilestoneStatus.HELD
    Milestone.objects.filter(pk__in=[h.milestone.pk for h in held]).update(
        status=MilestoneStatus.HELD, auto_release_due_at=None
    )
    Milestone.objects.filter(contract=contract, status=MilestoneStatus.PENDING).update(
        status=MilestoneStatus.CANCELLED, closed_at=now
    )
    contract.status = Contract.Status.ENDED
    contract.ended_at = now
    contract.save(update_fields=["status", "ended_at"])
    return held


def _as_int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Settlement:
    """How all the money a HELD milestone's escrow holds is paid out."""

    milestone_id: int
    to_freelancer: Decimal
    to_client: Decimal

    @property
    def status(self) -> str:
        """RELEASED (all to the freelancer), REFUNDED (all back) or SETTLED (split)."""
        if self.to_client == 0:
            return MilestoneStatus.RELEASED
        if self.to_freelancer == 0:
            return MilestoneStatus.REFUNDED
        return MilestoneStatus.SETTLED


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
    MilestoneStatus.RELEASED: LedgerTransaction.Kind.RELEASE,
    MilestoneStatus.REFUNDED: LedgerTransaction.Kind.REFUND,
    MilestoneStatus.SETTLED: LedgerTransaction.Kind.SETTLEMENT,
}


def milestones_settle(
    *, settlements: list[Settlement], actor: User | None, now: datetime
) -> dict[int, SettledMilestone]:
    """Pay out the whole escrow of each HELD milestone: part to the freelancer, the rest back.

    Locks the milestones (in primary-key order) inside the caller's transaction; the caller has
    checked its own rules. The shares must be non-negative and take exactly what the escrow
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
    for s in settlements:
        ensure_transition(
            Milestone.TRANSITIONS, model="milestone", current=rows[s.milestone_id][1],
            target=s.status,
        )

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
                kind=_TRANSACTION_KIND[s.status],
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

    by_status: dict[str, list[int]] = {}
    for s in settlements:
        by_status.setdefault(s.status, []).append(s.milestone_id)
    for status, pks in by_status.items():
        extra = {"released_at": now} if status == MilestoneStatus.RELEASED else {}
        Milestone.objects.filter(pk__any=pks).update(status=status, closed_at=now, **extra)
    return settled


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


# --- Deadlines ----------------------------------------------------------------------------


@deadlines.register("contracts.auto_release")
def milestones_auto_release(*, now: datetime, batch_size: int) -> int:
    """Release submitted work whose client neither released it nor ended the contract in time."""
    with transaction.atomic():
        due = deadlines.claim(
            Milestone.objects.filter(status=MilestoneStatus.SUBMITTED),
            due_field="auto_release_due_at",
            now=now,
            batch_size=batch_size,
        )
        if not due:
            return 0
        milestones = lock_milestones(milestone_ids=[m.pk for m in due])
        _release_many(
            releases=[(m, m.escrow_account.balance) for m in milestones.values()],
            now=now,
            actor=None,
        )
    return len(due)


def _remind_auto_release(milestones, hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=m.contract.client_id,
                kind="auto_release_reminder",
                title=f"{hours} hours left to review “{m.title}”",
                body=(
                    f"The work submitted on “{m.contract.title}” will be released to the "
                    f"freelancer automatically on {m.auto_release_due_at:%Y-%m-%d %H:%M} UTC "
                    f"unless you release the payment or end the contract first."
                ),
                url=m.contract.get_absolute_url(),
            )
            for m in milestones
        ],
        now=now,
    )


AUTO_RELEASE_REMINDER = deadlines.Reminder(
    queryset=lambda: Milestone.objects.filter(status=MilestoneStatus.SUBMITTED).select_related(
        "contract"
    ),
    due_field="auto_release_due_at",
    fields=AUTO_RELEASE_REMINDER_FIELDS,
    send=_remind_auto_release,
)

deadlines.register_reminder("contracts.auto_release_reminders", AUTO_RELEASE_REMINDER)
