"""A milestone's own path: funded, submitted, released by the client or by its deadline."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings

from accounts.models import User
from accounts.services import Message
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput
from core.money import format_amount, money, parse_amount
from core.uploads import check_uploads

from .. import ledger
from ..models import (
    Account,
    ContractEvent,
    LedgerTransaction,
    Milestone,
    MilestoneTerms,
    Submission,
    SubmissionFile,
)
from ..terms import terms_fields, terms_sha256
from .common import ensure_currency, lock_milestone, lock_milestones, required_text

LIFECYCLE = Milestone.lifecycle
Kind = ContractEvent.Kind


@service
def milestone_fund(
    *, milestone: Milestone, actor: User, currency: str | None = None, now: datetime
) -> LedgerTransaction:
    """Move the milestone's amount from the client's funding source into its escrow."""
    milestone = lock_milestone(milestone_id=milestone.pk)
    contract = milestone.contract
    LIFECYCLE.check("fund", milestone, user=actor, now=now)
    ensure_currency(contract=contract, currency=currency)
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
    terms = milestone_terms_freeze(milestone=milestone, currency=contract.currency, now=now)
    amount = money(milestone.amount, contract.currency)
    perform(
        LIFECYCLE,
        "fund",
        milestone,
        user=actor,
        now=now,
        checked=True,
        values={"funded_at": now},
        event=Event(
            Kind.MILESTONE_FUNDED,
            note=(
                f"{actor} funded {amount} into escrow for “{milestone.title}”. "
                f"Its terms are frozen: SHA-256 {terms.sha256}."
            ),
            amounts={"funded": format_amount(milestone.amount, contract.currency)},
        ),
        notify=[
            Message(
                user_id=contract.freelancer_id,
                kind="milestone_funded",
                title=f"“{milestone.title}” is funded",
                body=f"{amount} is held in escrow for “{milestone.title}” on “{contract.title}”.",
                url=contract.get_absolute_url(),
            )
        ],
    )
    return movement


def milestone_terms_freeze(*, milestone: Milestone, currency: str, now: datetime) -> MilestoneTerms:
    """Freeze the terms the client is funding, with their SHA-256 (``contracts.terms``), in the
    funding's transaction."""
    fields = terms_fields(
        title=milestone.title,
        description=milestone.description,
        amount=milestone.amount,
        currency=currency,
        due_date=milestone.due_date,
        frozen_at=now,
    )
    return MilestoneTerms.objects.create(
        milestone=milestone,
        title=milestone.title,
        description=milestone.description,
        amount=milestone.amount,
        currency=currency,
        due_date=milestone.due_date,
        frozen_at=now,
        sha256=terms_sha256(fields),
    )


@service
def milestone_submit(
    *, milestone: Milestone, actor: User, message: str, files: list | None = None, now: datetime
) -> Submission:
    """Record the freelancer's delivered work; files are checked by content before any is kept.

    The client then has AUTO_RELEASE_PERIOD to release the payment or end the contract; after
    that the work is released to the freelancer by its deadline.
    """
    message = required_text(message, field="message", label="A message", max_length=10_000)
    checked = check_uploads(list(files or []))
    milestone = lock_milestone(milestone_id=milestone.pk)
    LIFECYCLE.check("submit", milestone, user=actor, now=now)
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
    contract = milestone.contract
    attached = f" with {len(checked)} file(s)" if checked else ""
    perform(
        LIFECYCLE,
        "submit",
        milestone,
        user=actor,
        now=now,
        checked=True,
        values={
            "submitted_at": now,
            **deadlines.kind("auto_release", Milestone).arm(due_at=due_at, now=now),
        },
        event=Event(
            Kind.WORK_SUBMITTED,
            note=f"{actor} submitted work for “{milestone.title}”{attached}.",
            deadline=("auto_release", "client", due_at),
        ),
        notify=[
            Message(
                user_id=contract.client_id,
                kind="work_submitted",
                title=f"Work submitted for “{milestone.title}”",
                body=(
                    f"{contract.freelancer} submitted work on “{contract.title}”. Release the "
                    f"payment or end the contract; otherwise the escrow is released to the "
                    f"freelancer automatically on {deadlines.when(due_at)}."
                ),
                url=contract.get_absolute_url(),
            )
        ],
    )
    return submission


@service
def milestone_release(
    *,
    milestone: Milestone,
    actor: User,
    amount: object = None,
    currency: str | None = None,
    now: datetime,
) -> LedgerTransaction:
    """Release all (``amount=None``) or part of the milestone's escrow to the freelancer.

    Only a FUNDED or SUBMITTED milestone of an active contract, before its auto-release: money
    held for a refund request moves only by that request's outcome. When nothing is left in
    escrow the milestone becomes RELEASED; after a partial release it keeps its state with the
    smaller escrow.
    """
    milestone = lock_milestone(milestone_id=milestone.pk)
    contract = milestone.contract
    LIFECYCLE.check("release", milestone, user=actor, now=now)
    ensure_currency(contract=contract, currency=currency)
    held = milestone.escrow_account.balance
    if amount is None or amount == "":
        value = held
    else:
        value = parse_amount(amount, currency=contract.currency)
    if value > held:
        message = f"Only {money(held, contract.currency)} is held in escrow for this milestone."
        raise InvalidInput(message, code="amount_above_escrow", fields={"amount": [message]})
    return milestones_release(releases=[(milestone, value)], now=now, actor=actor)[0]


def milestones_release(
    *, releases: list[tuple[Milestone, Decimal]], now: datetime, actor: User | None
) -> list[LedgerTransaction]:
    """Release each ``(milestone, amount)`` of locked milestones to their freelancers.

    ``actor`` is the client (who was checked for it), or None when the deadline released the
    work. A milestone whose escrow is empty afterwards becomes RELEASED; the freelancer is told.
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
    amounts = {m.pk: amount for m, amount in releases}
    by = "automatically" if actor is None else f"by {actor}"

    def event(m: Milestone) -> Event:
        released = money(amounts[m.pk], m.contract.currency)
        if actor is None:
            return Event(
                Kind.AUTO_RELEASED,
                note=f"The client did not act in time: {released} released to the freelancer.",
                amounts={"released": format_amount(amounts[m.pk], m.contract.currency)},
            )
        return Event(
            Kind.PAYMENT_RELEASED,
            note=f"{actor} released {released} for “{m.title}”.",
            amounts={"released": format_amount(amounts[m.pk], m.contract.currency)},
        )

    def told(m: Milestone) -> Message:
        return Message(
            user_id=m.contract.freelancer_id,
            kind="payment_released",
            title=f"Payment released for “{m.title}”",
            body=(
                f"{money(amounts[m.pk], m.contract.currency)} was released to you {by} on "
                f"“{m.contract.title}”."
            ),
            url=m.contract.get_absolute_url(),
        )

    emptied = [m for m, _ in releases if m.escrow_account.balance == 0]
    partial = [m for m, _ in releases if m.escrow_account.balance != 0]
    perform(
        LIFECYCLE,
        "auto_release" if actor is None else "release",
        emptied,
        user=actor,
        now=now,
        checked=True,
        values={"released_at": now, "closed_at": now},
        event=event,
        notify=[told(m) for m in emptied],
    )
    perform(
        LIFECYCLE,
        "release_part",
        partial,
        user=actor,
        now=now,
        checked=True,
        event=event,
        notify=[told(m) for m in partial],
    )
    return list(LedgerTransaction.objects.filter(pk__in=written).order_by("pk"))


def milestones_auto_release(rows: list[Milestone], *, now: datetime) -> None:
    """The auto-release deadline: release the whole escrow of each locked, due SUBMITTED row."""
    milestones = lock_milestones(milestone_ids=[m.pk for m in rows])
    milestones_release(
        releases=[(m, m.escrow_account.balance) for m in milestones.values()],
        now=now,
        actor=None,
    )
