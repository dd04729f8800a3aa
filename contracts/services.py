"""Everything that changes a contract, a milestone or the money in its escrow.

Each function is one database transaction that locks the milestone it changes before it reads
its state, checks the state against the milestone's table of allowed transitions, and raises a
named error (changing nothing) when the action is not allowed.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from accounts.services import user_ensure_can_act
from core.errors import Conflict, InvalidInput, NotAllowed
from core.transitions import ensure_transition
from core.uploads import check_uploads

from . import ledger
from .models import Account, Contract, LedgerTransaction, Milestone, Submission, SubmissionFile
from .money import currency_places, parse_amount

MilestoneStatus = Milestone.Status


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
    """Lock one milestone row (and only it) for the rest of the transaction.

    The escrow account is read after the lock is held, never joined into the locking query:
    PostgreSQL re-reads only the locked row when a waiter wakes, so a joined balance would be
    the one from before the other transaction committed.
    """
    milestone = (
        Milestone.objects.select_for_update(of=("self",))
        .select_related("contract")
        .get(pk=milestone_id)
    )
    milestone.escrow_account = Account.objects.get(pk=milestone.escrow_account_id)
    return milestone


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
    milestone.status = MilestoneStatus.SUBMITTED
    milestone.submitted_at = now
    milestone.save(update_fields=["status", "submitted_at"])
    return submission


def _release(
    *, milestone: Milestone, amount: Decimal, now: datetime, actor: User | None
) -> LedgerTransaction:
    """Release ``amount`` of a locked milestone's escrow to its freelancer."""
    contract = milestone.contract
    earnings = ledger.account_get_or_create(
        kind=Account.Kind.EARNINGS, currency=contract.currency, owner=contract.freelancer, now=now
    )
    movement = ledger.post(
        kind=LedgerTransaction.Kind.RELEASE,
        currency=contract.currency,
        legs=[
            ledger.Leg(milestone.escrow_account, -amount),
            ledger.Leg(earnings, amount),
        ],
        memo=f"Release from milestone #{milestone.pk}",
        milestone=milestone,
        created_by=actor,
        now=now,
    )
    if milestone.escrow_account.balance == 0:
        milestone.status = MilestoneStatus.RELEASED
        milestone.released_at = now
        milestone.save(update_fields=["status", "released_at"])
    return movement


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
    return _release(milestone=milestone, amount=value, now=now, actor=actor)
