"""Mediation: assigning a declined dispute, proposing a resolution, the parties' answers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.urls import reverse

from accounts.models import User
from accounts.services import Message
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput, NotAnAgent
from core.money import money, parse_split
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from offers import services as offers

from .models import AlreadyAnswered, Resolution

DStatus = Dispute.Status
Kind = TimelineEvent.Kind

__all__ = ["AlreadyAnswered", "NotAnAgent", "parse_split"]


def cases_enter_mediation(rows: list[Dispute], *, now: datetime) -> None:
    """Cases that just entered mediation (``Dispute.lifecycle.on_entering``): arm the agents'
    service level, then assign each to the available agent with the fewest open cases."""
    due_at = now + settings.MEDIATION_SERVICE_LEVEL
    Dispute._base_manager.filter(pk__in=[row.pk for row in rows]).update(
        service_level_due_at=due_at, service_level_breached_at=None
    )
    for row in rows:
        row.service_level_due_at, row.service_level_breached_at = due_at, None
    disputes.disputes_auto_assign(rows, role="agent", now=now)


def service_levels_breach(rows: list[Dispute], *, now: datetime) -> None:
    """The agents' service level ran out with no proposal: flag each case once, and tell its
    agent and the Support group once (the sweep's rows are the unflagged ones only, locked)."""
    from accounts.models import Role

    support = list(
        User.objects.filter(
            groups__name=Role.SUPPORT.value, is_active=True, suspended_at__isnull=True
        )
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    messages = []
    for dispute in rows:
        contract = dispute.refund_request.contract
        url = reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])
        body = (
            f"{dispute} (“{contract.title}”) has no proposed resolution and its service level "
            f"ran out at {deadlines.when(dispute.service_level_due_at)}. It is now at the top of "
            "the mediation queue."
        )
        told = [dispute.agent_id] if dispute.agent_id else []
        told += [pk for pk in support if pk not in told]
        messages += [
            Message(
                user_id=pk,
                kind="service_level_breached",
                title=f"Service level breached: {dispute}",
                body=body,
                url=url,
            )
            for pk in told
        ]
    perform(
        Dispute.lifecycle,
        "breach_service_level",
        rows,
        now=now,
        values={"service_level_breached_at": now},
        event=lambda d: Event(
            Kind.SERVICE_LEVEL_BREACHED,
            note=(
                "No resolution was proposed within the agents' service level "
                f"(due {deadlines.when(d.service_level_due_at)}); the case is escalated."
            ),
            internal=True,
        ),
        notify=messages,
    )


def is_small_claim(amount: Decimal) -> bool:
    """True when a resolution of ``amount`` is binding at once (small claims are enabled)."""
    return settings.SMALL_CLAIMS_ENABLED and amount < Decimal(settings.SMALL_CLAIMS_LIMIT)


@service
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
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    request = dispute.refund_request
    small_claim = is_small_claim(request.amount)
    action = "decide_small_claim" if small_claim else "propose"
    Dispute.lifecycle.check(action, dispute, user=agent, now=now)
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
    if dispute.agent_id != agent.pk:
        # Whoever proposes takes the case, on the record (nobody mediates unassigned).
        disputes.dispute_assign(dispute=dispute, staff=agent, role="agent", now=now)

    split = (
        f"{money(share_f, request.currency)} to the freelancer, "
        f"{money(share_c, request.currency)} to the client"
    )
    resolution = Resolution.objects.create(
        dispute=dispute,
        proposed_by=agent,
        currency=request.currency,
        to_freelancer=share_f,
        to_client=share_c,
        rationale=text,
        status=Resolution.Status.BINDING if small_claim else Resolution.Status.PROPOSED,
        proposed_at=now,
        closed_at=now if small_claim else None,
    )
    if small_claim:
        disputes.disputes_close(
            closings=[disputes.Closing(dispute=dispute, to_freelancer=share_f, to_client=share_c)],
            action="decide_small_claim",
            outcome=Dispute.Outcome.SMALL_CLAIM,
            event_kind=Kind.SMALL_CLAIM_DECIDED,
            actor=agent,
            why=f"As a small claim, the mediation agent's decision is binding: {text}",
            now=now,
        )
        return resolution

    due_at = now + settings.RESOLUTION_RESPONSE_PERIOD
    disputes.dispute_advance(
        dispute=dispute,
        action="propose",
        kind=Kind.RESOLUTION_PROPOSED,
        actor=agent,
        now=now,
        deadline="resolution_response",
        due_at=due_at,
        note=text,
        amounts={"to_freelancer": share_f, "to_client": share_c},
        notify_title="A resolution is proposed",
        notify_body=(
            f"A mediation agent proposes {split}. Accept or reject it by "
            f"{deadlines.when(due_at)}. If both of you accept, the money moves as proposed; a "
            "rejection or no answer leads to a Notice of Non-Resolution."
        ),
    )
    return resolution


def _issue_notices(*, notices: list[tuple[Dispute, datetime, str]], now) -> None:
    """Notice of Non-Resolution: the money stays in escrow and the arbitration window opens.

    The system's action, following a party's rejection or the resolution's deadline: for each
    ``(dispute, at, why)`` the window runs from ``at``. All of them in one batch.
    """
    advances = []
    for dispute, at, why in notices:
        due_at = at + settings.ARBITRATION_WINDOW_PERIOD
        advances.append(
            disputes.Advance(
                dispute=dispute,
                due_at=due_at,
                started_at=at,
                note=(
                    f"Notice of Non-Resolution: {why} The money stays in escrow. Until "
                    f"{deadlines.when(due_at)} each party may agree to binding arbitration and "
                    "pay its share of the fee."
                ),
                notify_body=(
                    f"{why} The money stays in escrow. Until {deadlines.when(due_at)} each of "
                    "you may agree to binding arbitration and pay your share of the fee. If only "
                    "one of you pays, that party receives the amount in dispute; if neither "
                    "pays, it is refunded to the client."
                ),
            )
        )
    disputes.disputes_advance(
        advances=advances,
        action="issue_notice",
        kind=Kind.NON_RESOLUTION,
        actor=None,
        now=now,
        deadline="arbitration_window",
        notify_title="Notice of Non-Resolution",
    )


@service
def resolution_answer(*, dispute: Dispute, actor: User, accept: bool, now: datetime) -> Resolution:
    """A party accepts or rejects the proposed resolution before its deadline."""
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    party = Dispute.lifecycle.check("answer_resolution", dispute, user=actor, now=now)
    resolution = (
        Resolution.objects.select_for_update(of=("self",))
        .select_related("dispute__refund_request__contract")
        .get(dispute=dispute, status=Resolution.Status.PROPOSED)
    )
    other = "client" if party == "freelancer" else "freelancer"
    if not accept:
        action = "reject"
    elif resolution.answer_of(other) == Resolution.Answer.ACCEPTED:
        action = "accept_last"
    else:
        action = "accept"
    Resolution.lifecycle.check(action, resolution, user=actor, now=now)
    answer = Resolution.Answer.ACCEPTED if accept else Resolution.Answer.REJECTED
    values = {f"{party}_answer": answer, f"{party}_answered_at": now}
    if action != "accept":
        values["closed_at"] = now
    notes = {
        "reject": f"The {party} rejected the proposed resolution.",
        "accept_last": f"The {party} accepted the proposed resolution.",
        "accept": f"The {party} accepted the proposed resolution; the {other}'s answer is awaited.",
    }
    contract = dispute.refund_request.contract
    perform(
        Resolution.lifecycle,
        action,
        resolution,
        user=actor,
        now=now,
        checked=True,
        values=values,
        event=Event(
            Kind.RESOLUTION_REJECTED if action == "reject" else Kind.RESOLUTION_ACCEPTED,
            note=notes[action],
        ),
        notify=(
            [
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
            ]
            if action == "accept"
            else ()
        ),
    )
    if action == "reject":
        _issue_notices(
            notices=[(dispute, now, f"The {party} rejected the proposed resolution.")], now=now
        )
    elif action == "accept_last":
        disputes.disputes_close(
            closings=[
                disputes.Closing(
                    dispute=dispute,
                    to_freelancer=resolution.to_freelancer,
                    to_client=resolution.to_client,
                )
            ],
            action="settle_resolution",
            outcome=Dispute.Outcome.RESOLUTION_ACCEPTED,
            event_kind=Kind.RESOLUTION_SETTLED,
            actor=actor,
            why="Both parties accepted the proposed resolution.",
            now=now,
        )
    return resolution


def resolutions_expire(rows: list[Dispute], *, now: datetime) -> None:
    """The resolution's deadline: a Notice of Non-Resolution where not both parties accepted.

    The notice dates from the deadline itself, so a sweep that runs late opens the same
    arbitration window it would have opened on time.
    """
    resolutions = {
        r.dispute_id: r
        for r in Resolution.objects.select_for_update(of=("self",))
        .filter(dispute__in=rows, status=Resolution.Status.PROPOSED)
        .order_by("pk")
    }
    perform(
        Resolution.lifecycle,
        "expire",
        [resolutions[d.pk] for d in rows],
        now=now,
        values={"closed_at": now},
    )
    notices = []
    for dispute in rows:
        resolution = resolutions[dispute.pk]
        silent = [p for p in ("freelancer", "client") if not resolution.answer_of(p)]
        why = f"The {' and the '.join(silent)} did not answer the proposed resolution in time."
        notices.append((dispute, dispute.response_due_at, why))
    _issue_notices(notices=notices, now=now)


def remind_resolution(disputes_due: Iterable[Dispute], hours: int, now: datetime) -> None:
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


def _settled_by_offer(dispute: Dispute, *, now: datetime) -> str:
    """An offer settles a dispute whose resolution awaits answers: the resolution is moot."""
    perform(
        Resolution.lifecycle,
        "supersede",
        list(
            Resolution.objects.select_for_update(of=("self",))
            .filter(dispute=dispute, status=Resolution.Status.PROPOSED)
            .order_by("pk")
        ),
        now=now,
        values={"closed_at": now},
    )
    return "The proposed resolution is superseded."


offers.SETTLING[DStatus.RESOLUTION_PROPOSED] = _settled_by_offer
