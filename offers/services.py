"""Settlement offers: making, accepting, declining, withdrawing, and lapsing them.

Every change is an action of ``Offer.lifecycle`` (or of the dispute's, for the settlement),
taken through ``core.actions.perform`` in one transaction per entry point. Locks follow the
disputes app's order: the dispute first, then its offers, then the milestone and the ledger
accounts (through ``disputes.services.disputes_close``). The deadline sweep claims due offers
with SKIP LOCKED and takes no dispute lock, so it never waits on a person's action and a person's
action waits for it at most for one batch.

An accepted offer closes the dispute through ``disputes_close`` like every other outcome, with
outcome ``SETTLED``: one ledger transaction moves the escrow as offered. What the dispute's
current stage owes a settlement (a paid arbitration fee refunded before a case opens; a case
closed as settled and its evidence requests closed after) the later apps register in
:data:`SETTLING`, keyed by the dispute's status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from django.conf import settings

from accounts.models import User
from accounts.services import Message, notifications_send
from core import deadlines
from core.actions import Event, perform, record_created, service
from core.errors import DeadlineSettled, IllegalTransition, InvalidInput
from core.money import money, parse_split
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from disputes.services.timeline import amounts

from .models import NotYourOffer, Offer, OwnOffer

DStatus = Dispute.Status
Kind = TimelineEvent.Kind

__all__ = [
    "SETTLING",
    "NotYourOffer",
    "OwnOffer",
    "offer_accept",
    "offer_decline",
    "offer_make",
    "offer_withdraw",
    "offers_lapse",
    "offers_lapse_with_disputes",
]

MESSAGE_MAX = 5_000

# What settling a dispute in a stage owes that stage's own rows: ``handler(dispute, now=)``
# on the locked dispute, before it closes, returning a sentence for the parties ("" if none).
SETTLING: dict[str, Callable[..., str]] = {}


def lock_offer(pk: int) -> Offer:
    """Lock one offer (after its dispute: see the module docstring)."""
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("dispute__refund_request__contract", "made_by")
        .get(pk=pk)
    )


def _split(offer_or_values, currency: str) -> str:
    return (
        f"{money(offer_or_values.to_freelancer, currency)} to the freelancer, "
        f"{money(offer_or_values.to_client, currency)} to the client"
    )


def _text(value: str | None, *, field: str, label: str) -> str:
    text = (value or "").strip()
    if len(text) > MESSAGE_MAX:
        message = f"{label} may be at most {MESSAGE_MAX} characters."
        raise InvalidInput(message, code="too_long", fields={field: [message]})
    return text


def _check_dispute(name: str, dispute: Dispute, *, user: User, now: datetime) -> str:
    """Check ``user`` may take the dispute's action ``name`` now; return their party.

    Before a party acts, the dispute's own passed deadlines are applied (``core.actions``).
    When one of them closed the dispute just now, that outcome stays and the person is told
    so (409 ``deadline_passed``), as with every late action.
    """
    before = dispute.status
    try:
        return Dispute.lifecycle.check(name, dispute, user=user, now=now)
    except IllegalTransition:
        if dispute.status != before and dispute.status == DStatus.CLOSED:
            raise DeadlineSettled(
                "The dispute's deadline passed before you acted, and it closed: "
                f"{dispute.get_outcome_display().lower()}."
            ) from None
        raise


def _contract(dispute: Dispute):
    return dispute.refund_request.contract


def _user_of(dispute: Dispute, party: str) -> int:
    return getattr(_contract(dispute), f"{party}_id")


def _url(dispute: Dispute) -> str:
    return f"{dispute.get_absolute_url()}#offers"


# --- Making an offer ---------------------------------------------------------------------------


@service
def offer_make(
    *,
    dispute: Dispute,
    actor: User,
    to_freelancer: object,
    to_client: object,
    message: str = "",
    now: datetime,
) -> Offer:
    """Offer the other party an exact split of the disputed escrow R, with a message.

    The maker's own open offer, if any, is withdrawn (replaced); the other party's stays open.
    The offer lapses after OFFER_RESPONSE_PERIOD unless answered.
    """
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    party = _check_dispute("offer", dispute, user=actor, now=now)
    request = dispute.refund_request
    share_f, share_c = parse_split(
        to_freelancer=to_freelancer,
        to_client=to_client,
        total=request.amount,
        currency=request.currency,
    )
    text = _text(message, field="message", label="The message")
    previous = list(
        Offer.objects.select_for_update(of=("self",))
        .select_related("dispute")
        .filter(dispute=dispute, by=party, status=Offer.Status.OPEN)
        .order_by("pk")
    )
    kind = deadlines.kind("offer_response", Offer)
    for old in previous:
        # One that lapsed already lapses by its deadline, as the sweep would have done.
        if not kind.settle(old, now=now):
            perform(
                Offer.lifecycle,
                "withdraw",
                old,
                user=actor,
                now=now,
                checked=True,
                values={"answered_at": now, "answered_by_id": actor.pk},
                event=Event(
                    Kind.OFFER_WITHDRAWN,
                    note=f"The {party} withdrew their offer ({_split(old, old.currency)}) "
                    "and made a new one.",
                ),
            )
    due_at = now + settings.OFFER_RESPONSE_PERIOD
    offer = Offer.objects.create(
        dispute=dispute,
        by=party,
        made_by=actor,
        currency=request.currency,
        to_freelancer=share_f,
        to_client=share_c,
        message=text,
        created_at=now,
        **kind.arm(due_at=due_at, now=now),
    )
    other = offer.other
    split = _split(offer, request.currency)
    note = f"The {party} offers to settle: {split}."
    if text:
        note += f"\n\n{text}"
    perform(
        Dispute.lifecycle,
        "offer",
        dispute,
        user=actor,
        now=now,
        checked=True,
        event=Event(
            Kind.OFFER_MADE,
            note=note,
            amounts=amounts(request.currency, to_freelancer=share_f, to_client=share_c),
            deadline=("offer_response", other, due_at),
        ),
        notify=[
            Message(
                user_id=_user_of(dispute, other),
                kind="offer_made",
                title=f"The {party} offers to settle the dispute on “{_contract(dispute).title}”",
                body=(
                    f"{note}\n\nAccept it and the money moves at once and the dispute closes; or "
                    f"decline it, or make an offer of your own. It lapses "
                    f"{deadlines.when(due_at)} if you do not answer."
                ),
                url=_url(dispute),
            )
        ],
    )
    record_created(Offer.lifecycle, offer, now=now)
    return offer


# --- Answering an offer ------------------------------------------------------------------------


@service
def offer_accept(*, offer: Offer, actor: User, now: datetime) -> Offer:
    """Accept the other party's offer: the escrow moves as offered now, and the dispute closes
    as ``SETTLED``. The acceptor's own open offer lapses with the dispute."""
    dispute = disputes.lock_dispute(dispute_id=offer.dispute_id)
    offer = lock_offer(offer.pk)
    # The dispute's own passed deadlines first (a sweep on time would have applied them, and a
    # closing lapses the offer), then the offer's.
    _check_dispute("settle", dispute, user=actor, now=now)
    party = Offer.lifecycle.check("accept", offer, user=actor, now=now)
    request = dispute.refund_request
    # R never changes while a dispute is open; a split that no longer adds up is refused whole.
    parse_split(
        to_freelancer=offer.to_freelancer,
        to_client=offer.to_client,
        total=request.amount,
        currency=request.currency,
    )
    settling = SETTLING.get(dispute.status)
    consequence = settling(dispute, now=now) if settling is not None else ""
    split = _split(offer, offer.currency)
    perform(
        Offer.lifecycle,
        "accept",
        offer,
        user=actor,
        now=now,
        checked=True,
        values={"answered_at": now, "answered_by_id": actor.pk},
        event=Event(
            Kind.OFFER_ACCEPTED,
            note=f"The {party} accepted the {offer.by}'s offer: {split}. {consequence}".strip(),
            amounts=amounts(
                offer.currency, to_freelancer=offer.to_freelancer, to_client=offer.to_client
            ),
        ),
    )
    disputes.disputes_close(
        closings=[
            disputes.Closing(
                dispute=dispute, to_freelancer=offer.to_freelancer, to_client=offer.to_client
            )
        ],
        action="settle",
        outcome=Dispute.Outcome.SETTLED,
        event_kind=Kind.SETTLED,
        actor=actor,
        why=f"The {party} accepted the {offer.by}'s settlement offer. {consequence}".strip(),
        now=now,
    )
    return offer


def _answer(
    *, action: str, offer: Offer, actor: User, reason: str, now: datetime
) -> tuple[Offer, str, str]:
    dispute = disputes.lock_dispute(dispute_id=offer.dispute_id)
    offer = lock_offer(offer.pk)
    offer.dispute = dispute
    # Who may answer first; then the dispute's passed deadlines, which may have closed it (and
    # lapsed the offer) before this answer; then the offer's own.
    Offer.lifecycle.actor_of(Offer.lifecycle[action], offer, actor)
    before = dispute.status
    deadlines.catch_up(dispute, now=now)
    if dispute.status != before and dispute.status == DStatus.CLOSED:
        raise DeadlineSettled(
            "The dispute's deadline passed before you acted, and it closed: "
            f"{dispute.get_outcome_display().lower()}."
        )
    party = Offer.lifecycle.check(action, offer, user=actor, now=now)
    text = _text(reason, field="reason", label="The reason")
    return offer, party, text


@service
def offer_decline(*, offer: Offer, actor: User, reason: str = "", now: datetime) -> Offer:
    """Decline the other party's offer (a reason is optional); the dispute goes on."""
    offer, party, text = _answer(action="decline", offer=offer, actor=actor, reason=reason, now=now)
    dispute = offer.dispute
    note = f"The {party} declined the {offer.by}'s offer ({_split(offer, offer.currency)})."
    if text:
        note += f"\n\n{text}"
    perform(
        Offer.lifecycle,
        "decline",
        offer,
        user=actor,
        now=now,
        checked=True,
        values={"answered_at": now, "answered_by_id": actor.pk, "reason": text},
        event=Event(Kind.OFFER_DECLINED, note=note),
        notify=[
            Message(
                user_id=_user_of(dispute, offer.by),
                kind="offer_declined",
                title=f"The {party} declined your offer on “{_contract(dispute).title}”",
                body=f"{note}\n\nYou may make another offer while the dispute is open.",
                url=_url(dispute),
            )
        ],
    )
    return offer


@service
def offer_withdraw(*, offer: Offer, actor: User, reason: str = "", now: datetime) -> Offer:
    """Withdraw one's own open offer (a reason is optional)."""
    offer, party, text = _answer(
        action="withdraw", offer=offer, actor=actor, reason=reason, now=now
    )
    dispute = offer.dispute
    note = f"The {party} withdrew their offer ({_split(offer, offer.currency)})."
    if text:
        note += f"\n\n{text}"
    perform(
        Offer.lifecycle,
        "withdraw",
        offer,
        user=actor,
        now=now,
        checked=True,
        values={"answered_at": now, "answered_by_id": actor.pk, "reason": text},
        event=Event(Kind.OFFER_WITHDRAWN, note=note),
        notify=[
            Message(
                user_id=_user_of(dispute, offer.other),
                kind="offer_withdrawn",
                title=f"The {party} withdrew their offer on “{_contract(dispute).title}”",
                body=note,
                url=_url(dispute),
            )
        ],
    )
    return offer


# --- Lapsing -----------------------------------------------------------------------------------


def offers_lapse(rows: list[Offer], *, now: datetime) -> None:
    """The offer's deadline: unanswered, it lapses; the dispute goes on. Both parties are told."""
    perform(
        Offer.lifecycle,
        "lapse",
        rows,
        now=now,
        event=lambda o: Event(
            Kind.OFFER_LAPSED,
            note=f"The {o.by}'s offer ({_split(o, o.currency)}) lapsed: the {o.other} did not "
            f"answer it by {deadlines.when(o.response_due_at)}.",
        ),
        notify=[
            Message(
                user_id=_user_of(o.dispute, party),
                kind="offer_lapsed",
                title=f"A settlement offer on “{_contract(o.dispute).title}” lapsed",
                body=f"The {o.by}'s offer ({_split(o, o.currency)}) was not answered by "
                f"{deadlines.when(o.response_due_at)}. Either of you may make a new one while "
                "the dispute is open.",
                url=_url(o.dispute),
            )
            for o in rows
            for party in (o.by, o.other)
        ],
    )


def offers_lapse_with_disputes(rows: Iterable[Dispute], *, now: datetime) -> None:
    """Lapse the open offers of disputes that just closed (declared on the dispute's table,
    ``offers.models``): whichever way a dispute ends, nothing about it is left to accept."""
    by_pk = {d.pk: d for d in rows}
    offers = list(
        Offer.objects.select_for_update(of=("self",))
        .filter(dispute_id__in=list(by_pk), status=Offer.Status.OPEN)
        .order_by("pk")
    )
    for offer in offers:
        offer.dispute = by_pk[offer.dispute_id]
    perform(
        Offer.lifecycle,
        "lapse_with_dispute",
        offers,
        now=now,
        event=lambda o: Event(
            Kind.OFFER_LAPSED,
            note=f"The {o.by}'s offer ({_split(o, o.currency)}) lapsed: the dispute closed.",
        ),
    )


def remind_offers(rows: Iterable[Offer], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=_user_of(o.dispute, o.other),
                kind="deadline_reminder",
                title=f"{hours} hours left to answer a settlement offer",
                body=f"The {o.by} offers {_split(o, o.currency)} on "
                f"“{_contract(o.dispute).title}”. Accept or decline it by "
                f"{deadlines.when(o.response_due_at)}, or it lapses.",
                url=_url(o.dispute),
            )
            for o in rows
        ],
        now=now,
    )
