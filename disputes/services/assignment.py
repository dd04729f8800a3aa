"""Who takes a case: automatic assignment by load, the high-value tier, and reassignment.

A case entering mediation (or arbitration, once both fees are paid) goes to the available staff
member of the role with the fewest open cases; among equals, the one assigned least recently
(then the lowest id), so equal loads take turns. Available means: in the role's group, active,
not suspended, not away (``User.away_since``), not a party of the contract, and clear of every
other conflict of interest the dispute's table declares (an arbitrator who mediated the case).
A dispute whose amount R is at or above ``HIGH_VALUE_LIMIT`` for its currency goes only to
mediation agents who are also "Senior mediation agents". With nobody available, the case stays
unassigned in the queue.

The mediation and arbitration apps call :func:`disputes_auto_assign` from the handler they
declare with ``Dispute.lifecycle.on_entering``, so every path into the stage (a click, a sweep)
assigns. Reassignment is the dispute's action ``reassign_agent`` / ``reassign_arbitrator``,
with a reason on the timeline.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import Message
from core.actions import Actor, Event, group_names, holds_role, perform, service
from core.errors import Conflict, InvalidInput, NotAllowed

from ..models import Dispute, TimelineEvent
from .locks import lock_dispute

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


class Seat:
    """What assignment needs to know of one staff role."""

    def __init__(self, *, actor, role, column, kind, stages, auto, reassign, title, admin_url):
        self.admin_url = admin_url  # the staff case page
        self.actor = actor
        self.role = role
        self.column = column
        self.kind = kind
        self.stages = stages  # the statuses in which a case counts as open for its assignee
        self.auto = auto  # the system's action
        self.reassign = reassign  # the staff action, with a reason
        self.title = title


SEATS = {
    "agent": Seat(
        actor=Actor.AGENT,
        role=Role.MEDIATION_AGENT,
        column="agent",
        kind=Kind.AGENT_ASSIGNED,
        stages=(DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED),
        auto="auto_assign_agent",
        reassign="reassign_agent",
        title="mediation agent",
        admin_url="admin:mediation_mediationqueueitem_change",
    ),
    "arbitrator": Seat(
        actor=Actor.ARBITRATOR,
        role=Role.ARBITRATOR,
        column="arbitrator",
        kind=Kind.ARBITRATOR_ASSIGNED,
        stages=(DStatus.IN_ARBITRATION,),
        auto="auto_assign_arbitrator",
        reassign="reassign_arbitrator",
        title="arbitrator",
        admin_url="admin:arbitration_arbitrationqueueitem_change",
    ),
}


# --- The high-value tier ------------------------------------------------------------------------


def high_value_limit(currency: str) -> Decimal | None:
    """The tier's limit for ``currency`` (``HIGH_VALUE_LIMIT``), or None: no tier."""
    limit = settings.HIGH_VALUE_LIMIT.get((currency or "").upper())
    return Decimal(limit) if limit not in (None, "") else None


def is_high_value(*, amount: Decimal | None, currency: str) -> bool:
    """Whether a dispute of R = ``amount`` belongs to the high-value tier (at or above)."""
    limit = high_value_limit(currency)
    return limit is not None and amount is not None and amount >= limit


def dispute_is_high_value(dispute: Dispute) -> bool:
    request = dispute.refund_request
    return is_high_value(amount=request.amount, currency=request.currency)


def high_value_filter(prefix: str = "refund_request__") -> Q:
    """The high-value disputes as a filter (R at or above its currency's limit)."""
    terms = Q(pk__in=[])
    for currency in settings.HIGH_VALUE_LIMIT:
        limit = high_value_limit(currency)
        if limit is not None:
            terms |= Q(**{f"{prefix}currency": currency, f"{prefix}amount__gte": limit})
    return terms


def is_senior(user: User) -> bool:
    """Whether ``user`` takes the high-value tier (superusers take everything)."""
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return Role.SENIOR_MEDIATION_AGENT.value in group_names(user)


def tier_refusal(dispute: Dispute, user: User, role: str) -> NotAllowed | None:
    """Why ``user`` may not take ``dispute`` in ``role`` because of its tier, or None."""
    if role == "agent" and dispute_is_high_value(dispute) and not is_senior(user):
        return NotAllowed(
            "This is a high-value dispute: only senior mediation agents take it.",
            code="high_value_tier",
        )
    return None


# --- Choosing ------------------------------------------------------------------------------------


def candidates(*, dispute: Dispute, role: str, exclude: tuple[int, ...] = ()) -> list[User]:
    """The staff who may take ``dispute`` in ``role`` now, in the order assignment tries them:
    fewest open cases, then least recently assigned, then lowest id."""
    seat = SEATS[role]
    users = User.objects.filter(
        groups__name=seat.role.value,
        is_active=True,
        suspended_at__isnull=True,
        away_since__isnull=True,
    ).exclude(pk__in=[*Dispute.lifecycle.parties_of(dispute), *exclude])
    if role == "agent" and dispute_is_high_value(dispute):
        users = users.filter(
            pk__in=User.objects.filter(groups__name=Role.SENIOR_MEDIATION_AGENT.value).values("pk")
        )
    open_cases = (
        Dispute.objects.filter(**{seat.column: OuterRef("pk")}, status__in=seat.stages)
        .order_by()
        .values(seat.column)
        .annotate(n=Count("pk"))
        .values("n")
    )
    last_assigned = (
        TimelineEvent.objects.filter(actor=OuterRef("pk"), kind=seat.kind)
        .order_by("-pk")
        .values("pk")[:1]
    )
    ordered = (
        users.distinct()
        .annotate(
            open_cases=Coalesce(Subquery(open_cases, output_field=IntegerField()), Value(0)),
            last_assigned=Coalesce(Subquery(last_assigned, output_field=IntegerField()), Value(0)),
        )
        .order_by("open_cases", "last_assigned", "pk")
    )
    return [
        user for user in ordered if Dispute.lifecycle.conflict_of(dispute, user, seat.actor) is None
    ]


def next_assignee(*, dispute: Dispute, role: str, exclude: tuple[int, ...] = ()) -> User | None:
    """The one staff member automatic assignment gives ``dispute`` to, or None."""
    found = candidates(dispute=dispute, role=role, exclude=exclude)
    return found[0] if found else None


def _assigned_message(dispute: Dispute, staff: User, seat: Seat, why: str) -> Message:
    contract = dispute.refund_request.contract
    return Message(
        user_id=staff.pk,
        kind="case_assigned",
        title=f"{dispute} is assigned to you",
        body=f"You are the {seat.title} of {dispute} (“{contract.title}”). {why}",
        url=reverse(seat.admin_url, args=[dispute.pk]),
    )


def disputes_auto_assign(rows: list[Dispute], *, role: str, now: datetime) -> None:
    """Give each case of ``rows`` (locked, just entered the stage) to its next assignee.

    One case at a time, so each choice counts the cases given before it. A case nobody can
    take stays unassigned, in the queue.
    """
    if not settings.AUTO_ASSIGN_CASES:
        return
    seat = SEATS[role]
    # Assignments of one role take turns: each locks the role's staff rows (in pk order, as
    # every lock is taken) before counting, so two cases entering at once see each other's
    # choice instead of both going to the same least-loaded person.
    list(
        User.objects.select_for_update(of=("self",))
        .filter(pk__in=User.objects.filter(groups__name=seat.role.value).values("pk"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for dispute in rows:
        if getattr(dispute, f"{seat.column}_id") is not None:
            continue  # someone has it already
        staff = next_assignee(dispute=dispute, role=role)
        if staff is None:
            continue
        values = {f"{seat.column}_id": staff.pk}
        if role == "agent":
            values["agent_assigned_at"] = now
        perform(
            Dispute.lifecycle,
            seat.auto,
            dispute,
            now=now,
            values=values,
            event=Event(
                seat.kind,
                note=f"Assigned automatically to {staff}, the available {seat.title} with the "
                "fewest open cases.",
                actor_id=staff.pk,
            ),
            notify=[_assigned_message(dispute, staff, seat, "Assigned automatically.")],
        )
        setattr(dispute, seat.column, staff)


@service
def dispute_reassign(
    *,
    dispute: Dispute,
    actor: User,
    role: str,
    reason: str,
    now: datetime,
    to: User | None = None,
) -> Dispute:
    """Give the case to another staff member of ``role``, with a reason on the timeline.

    ``to`` is the new assignee; without it, the next one automatic assignment would choose
    (never the current one). The new assignee must hold the role and the case's tier, and be
    clear of any conflict of interest.
    """
    seat = SEATS[role]
    dispute = lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check(seat.reassign, dispute, user=actor, now=now)
    text = (reason or "").strip()
    if not text:
        message = "Give the reason for the reassignment; it goes on the timeline."
        raise InvalidInput(message, fields={"reason": [message]})
    previous_id = getattr(dispute, f"{seat.column}_id")
    if to is None:
        exclude = (previous_id,) if previous_id else ()
        to = next_assignee(dispute=dispute, role=role, exclude=exclude)
        if to is None:
            raise Conflict(
                f"No other {seat.title} is available for this case.", code="nobody_available"
            )
    else:
        if not holds_role(to, seat.actor) or to.suspended_at is not None:
            message = f"{to} is not an active {seat.title}."
            raise InvalidInput(message, fields={"to": [message]})
        refusal = Dispute.lifecycle.conflict_of(dispute, to, seat.actor) or tier_refusal(
            dispute, to, role
        )
        if refusal is not None:
            message = f"{to} cannot take this case: {refusal.message}"
            raise InvalidInput(message, fields={"to": [message]})
    if to.pk == previous_id:
        message = f"{to} has this case already."
        raise InvalidInput(message, fields={"to": [message]})
    previous = getattr(dispute, seat.column)
    values = {f"{seat.column}_id": to.pk}
    if role == "agent":
        values["agent_assigned_at"] = now
    perform(
        Dispute.lifecycle,
        seat.reassign,
        dispute,
        user=actor,
        now=now,
        checked=True,
        values=values,
        event=Event(
            seat.kind,
            note=f"{actor} reassigned the case from {previous or 'nobody'} to {to}. Reason: {text}",
            actor_id=to.pk,
        ),
        notify=[_assigned_message(dispute, to, seat, f"Reassigned by {actor}: {text}")],
    )
    setattr(dispute, seat.column, to)
    return dispute
