"""Mediation: assigning a declined dispute, proposing a resolution, the parties' answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import user_has_role
from accounts.services import Message, notifications_send, user_ensure_can_act
from core import deadlines
from core.errors import Conflict, DeadlinePassed, InvalidInput, NotAllowed
from core.money import money, parse_amount
from core.transitions import ensure_transition
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent

from .models import Resolution

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


class NotAnAgent(NotAllowed):
    code = "not_an_agent"
    default_message = "Only mediation agents can propose a resolution."


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = "You have already answered this resolution."


def party_of(dispute: Dispute, user: User) -> str | None:
    contract = dispute.refund_request.contract
    if user.pk == contract.freelancer_id:
        return "freelancer"
    if user.pk == contract.client_id:
        return "client"
    return None


def parse_split(
    *, to_freelancer: object, to_client: object, total: Decimal, currency: str
) -> tuple[Decimal, Decimal]:
    """Return the two shares if they are exact, non-negative and add up to ``total``."""
    errors: dict[str, list[str]] = {}
    shares: dict[str, Decimal] = {}
    for field, value in (("to_freelancer", to_freelancer), ("to_client", to_client)):
        try:
            shares[field] = parse_amount(value, currency=currency, field=field, allow_zero=True)
        except InvalidInput as error:
            errors.update(error.fields)
    if errors:
        raise InvalidInput("The split is not valid.", code="invalid_amount", fields=errors)
    if shares["to_freelancer"] + shares["to_client"] != total:
        message = f"The two shares must add up to {money(total, currency)}, to the cent."
        raise InvalidInput(
            message,
            code="split_mismatch",
            fields={"to_freelancer": [message], "to_client": [message]},
        )
    return shares["to_freelancer"], shares["to_client"]


def is_small_claim(amount: Decimal) -> bool:
    """True when a resolution of ``amount`` is binding at once (small claims are enabled)."""
    return settings.SMALL_CLAIMS_ENABLED and amount < Decimal(settings.SMALL_CLAIMS_LIMIT)


@transaction.atomic
def resolution_propose(
    *,
    dispute: Dispute,
    agent: User,
    to_freelancer: object,
    to_client: object,
    rationale: str,
    now: datetime,
) -> Resolution:
    """Propose an exact split of the disputed escrow R, with a written rationale.

    Both parties then have RESOLUTION_RESPONSE_PERIOD to accept or reject it. A small claim
    (when enabled) is decided at once: the split is binding and the money moves now.
    """
    user_ensure_can_act(user=agent)
    if not user_has_role(user=agent, role=Role.MEDIATION_AGENT):
        raise NotAnAgent()
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    ensure_transition(
        Dispute.TRANSITIONS,
        model="dispute",
        current=dispute.status,
        target=DStatus.RESOLUTION_PROPOSED,
    )
    request = dispute.refund_request
    share_f, share_c = parse_split(
        to_freelancer=to_freelancer,
        to_client=to_client,
        total=request.amount,
        currency=request.currency,
    )
    text = (rationale or "").strip()
    if not text:
        message = "Explain the proposal: the rationale is required."
        raise InvalidInput(message, code="rationale_required", fields={"rationale": [message]})
    if dispute.agent_id is None:
        disputes.dispute_assign(dispute=dispute, staff=agent, role="agent", now=now)

    split = (
        f"{money(share_f, request.currency)} to the freelancer, "
        f"{money(share_c, request.currency)} to the client"
    )
    if is_small_claim(request.amount):
        resolution = Resolution.objects.create(
            dispute=dispute,
            proposed_by=agent,
            currency=request.currency,
            to_freelancer=share_f,
            to_client=share_c,
            rationale=text,
            status=Resolution.Status.BINDING,
            proposed_at=now,
            closed_at=now,
        )
        disputes.disputes_close(
            closings=[disputes.Closing(dispute=dispute, to_freelancer=share_f, to_client=share_c)],
            outcome=Dispute.Outcome.SMALL_CLAIM,
            event_kind=Kind.SMALL_CLAIM_DECIDED,
            actor=agent,
            why=f"As a small claim, the mediation agent's decision is binding: {text}",
            now=now,
        )
        return resolution

    due_at = now + settings.RESOLUTION_RESPONSE_PERIOD
    resolution = Resolution.objects.create(
        dispute=dispute,
        proposed_by=agent,
        currency=request.currency,
        to_freelancer=share_f,
        to_client=share_c,
        rationale=text,
        status=Resolution.Status.PROPOSED,
        proposed_at=now,
    )
    disputes.dispute_advance(
        dispute=dispute,
        target=DStatus.RESOLUTION_PROPOSED,
        kind=Kind.RESOLUTION_PROPOSED,
        actor=agent,
        now=now,
        due_at=due_at,
        note=text,
        amounts={"to_freelancer": share_f, "to_client": share_c},
        deadline_kind="resolution_response",
        deadline_party="parties",
        notify_title="A resolution is proposed",
        notify_body=(
            f"A mediation agent proposes {split}. Accept or reject it by "
            f"{deadlines.when(due_at)}. If both of you accept, the money moves as proposed; a "
            "rejection or no answer leads to a Notice of Non-Resolution."
        ),
    )
    return resolution


def _issue_notices(
    *, pairs: Iterable[tuple[Dispute, Resolution]], at: datetime, why: str, actor, now
) -> None:
    """Notice of Non-Resolution: the money stays in escrow and the arbitration window opens."""
    for dispute, _resolution in pairs:
        due_at = at + settings.ARBITRATION_WINDOW_PERIOD
        disputes.dispute_advance(
            dispute=dispute,
            target=DStatus.ARBITRATION_WINDOW,
            kind=Kind.NON_RESOLUTION,
            actor=actor,
            now=now,
            due_at=due_at,
            started_at=at,
            note=(
                f"Notice of Non-Resolution: {why} The money stays in escrow. Until "
                f"{deadlines.when(due_at)} each party may agree to binding arbitration and pay "
                "its share of the fee."
            ),
            deadline_kind="arbitration_window",
            deadline_party="parties",
            notify_title="Notice of Non-Resolution",
            notify_body=(
                f"{why} The money stays in escrow. Until {deadlines.when(due_at)} each of you "
                "may agree to binding arbitration and pay your share of the fee. If only one "
                "of you pays, that party receives the amount in dispute; if neither pays, it "
                "is refunded to the client."
            ),
        )


@transaction.atomic
def resolution_answer(*, dispute: Dispute, actor: User, accept: bool, now: datetime) -> Resolution:
    """A party accepts or rejects the proposed resolution before its deadline."""
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    party = party_of(dispute, actor)
    user_ensure_can_act(user=actor)
    if party is None:
        raise NotAllowed("Only the parties answer a proposed resolution.")
    if dispute.status != DStatus.RESOLUTION_PROPOSED:
        raise Conflict(
            f"This dispute is {dispute.get_status_display().lower()}: there is no proposed "
            "resolution to answer.",
            code="illegal_transition",
        )
    if now >= dispute.response_due_at:
        raise DeadlinePassed(
            f"The time to answer this resolution ended {deadlines.when(dispute.response_due_at)}."
        )
    resolution = Resolution.objects.select_for_update().get(
        dispute=dispute, status=Resolution.Status.PROPOSED
    )
    if resolution.answer_of(party):
        raise AlreadyAnswered()
    answer = Resolution.Answer.ACCEPTED if accept else Resolution.Answer.REJECTED
    setattr(resolution, f"{party}_answer", answer)
    setattr(resolution, f"{party}_answered_at", now)
    other = "client" if party == "freelancer" else "freelancer"

    if not accept:
        resolution.status, resolution.closed_at = Resolution.Status.REJECTED, now
        resolution.save()
        disputes.timeline_event_add(
            dispute=dispute,
            kind=Kind.RESOLUTION_REJECTED,
            actor=actor,
            now=now,
            note=f"The {party} rejected the proposed resolution.",
        )
        _issue_notices(
            pairs=[(dispute, resolution)],
            at=now,
            why=f"The {party} rejected the proposed resolution.",
            actor=None,
            now=now,
        )
        return resolution

    if resolution.answer_of(other) == Resolution.Answer.ACCEPTED:
        resolution.status, resolution.closed_at = Resolution.Status.ACCEPTED, now
        resolution.save()
        disputes.timeline_event_add(
            dispute=dispute,
            kind=Kind.RESOLUTION_ACCEPTED,
            actor=actor,
            now=now,
            note=f"The {party} accepted the proposed resolution.",
        )
        disputes.disputes_close(
            closings=[
                disputes.Closing(
                    dispute=dispute,
                    to_freelancer=resolution.to_freelancer,
                    to_client=resolution.to_client,
                )
            ],
            outcome=Dispute.Outcome.RESOLUTION_ACCEPTED,
            event_kind=Kind.RESOLUTION_SETTLED,
            actor=actor,
            why="Both parties accepted the proposed resolution.",
            now=now,
        )
        return resolution

    resolution.save()
    disputes.timeline_event_add(
        dispute=dispute,
        kind=Kind.RESOLUTION_ACCEPTED,
        actor=actor,
        now=now,
        note=f"The {party} accepted the proposed resolution; the {other}'s answer is awaited.",
    )
    contract = dispute.refund_request.contract
    notifications_send(
        messages=[
            Message(
                user_id=getattr(contract, f"{other}_id"),
                kind="resolution_answer",
                title=f"The {party} accepted the resolution on “{contract.title}”",
                body=(
                    "Accept it too and the money moves as proposed; answer by "
                    f"{deadlines.when(dispute.response_due_at)}."
                ),
                url=dispute.get_absolute_url(),
            )
        ],
        now=now,
    )
    return resolution


@deadlines.register("mediation.resolutions_expire")
def resolutions_expire(*, now: datetime, batch_size: int) -> int:
    """A resolution not accepted by both parties in time: a Notice of Non-Resolution.

    The notice dates from the deadline itself, so a sweep that runs late opens the same
    arbitration window it would have opened on time.
    """
    with transaction.atomic():
        due = deadlines.claim(
            Dispute.objects.filter(status=DStatus.RESOLUTION_PROPOSED).select_related(
                "refund_request__contract"
            ),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        if not due:
            return 0
        resolutions = {
            r.dispute_id: r
            for r in Resolution.objects.select_for_update().filter(
                dispute__in=due, status=Resolution.Status.PROPOSED
            )
        }
        for dispute in due:
            resolution = resolutions[dispute.pk]
            resolution.status, resolution.closed_at = Resolution.Status.EXPIRED, now
            resolution.save(update_fields=["status", "closed_at"])
            silent = [p for p in ("freelancer", "client") if not resolution.answer_of(p)]
            _issue_notices(
                pairs=[(dispute, resolution)],
                at=dispute.response_due_at,
                why=f"The {' and the '.join(silent)} did not answer the proposed resolution "
                "in time.",
                actor=None,
                now=now,
            )
    return len(due)


def _remind_resolution(disputes_due: Iterable[Dispute], hours: int, now: datetime) -> None:
    rows = list(disputes_due)
    open_ = {
        r.dispute_id: r
        for r in Resolution.objects.filter(dispute__in=rows, status=Resolution.Status.PROPOSED)
    }
    disputes.remind_parties(
        disputes=rows,
        owes=lambda d, party: d.pk in open_ and not open_[d.pk].answer_of(party),
        title=f"{hours} hours left to answer the proposed resolution",
        body=lambda d: (
            f"Accept or reject the resolution on “{d.refund_request.contract.title}” by "
            f"{deadlines.when(d.response_due_at)}. Without both answers a Notice of "
            "Non-Resolution follows."
        ),
        now=now,
    )


RESOLUTION_REMINDER = deadlines.Reminder(
    queryset=lambda: Dispute.objects.filter(status=DStatus.RESOLUTION_PROPOSED).select_related(
        "refund_request__contract"
    ),
    due_field="response_due_at",
    fields=disputes.REMINDER_FIELDS,
    send=_remind_resolution,
)

deadlines.register_reminder("mediation.resolution_reminders", RESOLUTION_REMINDER)
