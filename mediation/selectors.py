"""Reads for the staff side of mediation: the agents' queue and the statistics page.

Statistics are a fixed number of aggregate queries whatever the number of disputes; medians are
taken in Python over one column of values, which works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db.models import Case, Count, Min, Q, QuerySet, When

from disputes.models import Dispute

from .models import MediationQueueItem, Resolution

DStatus = Dispute.Status

# The disputes an agent has work on: waiting for a proposal, or for the parties' answers to one.
QUEUE_STAGES = (DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED)


def mediation_queue(*, for_user=None) -> QuerySet[MediationQueueItem]:
    """Return the disputes waiting for mediation, escalated ones first, then oldest decline
    first, ready for the queue.

    ``for_user``'s own cases are left out: nobody mediates a dispute they are a party to.
    """
    queue = MediationQueueItem.objects.filter(status__in=QUEUE_STAGES)
    if for_user is not None:
        queue = queue.exclude(refund_request__contract__client=for_user).exclude(
            refund_request__contract__freelancer=for_user
        )
    return (
        queue.select_related(
            "refund_request__contract__client",
            "refund_request__contract__freelancer",
            "agent",
        )
        .annotate(first_proposed_at=Min("resolutions__proposed_at"))
        # Escalated cases (service level breached, still without a proposal) come first.
        .order_by(
            Case(
                When(status=DStatus.IN_MEDIATION, service_level_breached_at__isnull=False, then=0),
                default=1,
            ),
            "declined_at",
            "pk",
        )
    )


def mediation_case(*, pk: object) -> MediationQueueItem | None:
    """Return one submitted dispute with what its case page shows, or None."""
    return (
        MediationQueueItem.objects.filter(submitted_at__isnull=False)
        .select_related(
            "refund_request__contract__client",
            "refund_request__contract__freelancer",
            "milestone",
            "agent",
            "arbitrator",
        )
        .filter(pk=pk)
        .first()
    )


def dispute_resolutions(*, dispute: Dispute) -> QuerySet[Resolution]:
    """Return every resolution proposed on the dispute, oldest first."""
    return (
        Resolution.objects.filter(dispute=dispute)
        .select_related("proposed_by")
        .order_by("proposed_at", "pk")
    )


def service_level_breached(*, now: datetime, service_level: timedelta) -> Q:
    """Match disputes still waiting for a first proposal after the service level ran out (its
    due time as stored when the case entered mediation; ``service_level`` for older rows)."""
    return Q(status=DStatus.IN_MEDIATION) & (
        Q(service_level_due_at__lt=now)
        | Q(service_level_due_at__isnull=True, declined_at__lt=now - service_level)
    )


# --- Statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgentServiceLevel:
    agent: str
    handled: int  # disputes the agent took (assigned, or proposed on)
    proposed: int  # of those, with a first resolution proposed
    within: int  # first proposals made within the service level of the decline
    median_to_proposal: timedelta | None

    @property
    def share_within(self) -> float | None:
        return self.within / self.proposed if self.proposed else None


@dataclass(frozen=True)
class DisputeStatistics:
    by_stage: list[tuple[str, int]]
    by_outcome: list[tuple[str, int]]
    closed: int
    median_to_resolution: timedelta | None
    agents: list[AgentServiceLevel]
    overall: AgentServiceLevel
    service_level: timedelta
    # Escalations: cases whose service level the sweep found breached, by agent and by week.
    breaches_by_agent: list[tuple[str, int]] = ()
    breaches_by_week: list[tuple[date, int]] = ()


# The stages of a dispute that was never submitted: statistics leave them out.
UNSUBMITTED = frozenset({DStatus.DRAFT, DStatus.LAPSED})


def _median(values: list[timedelta]) -> timedelta | None:
    return statistics.median(values) if values else None


def _service_level(
    agent: str, rows: list[tuple[datetime, datetime | None]], service_level: timedelta
) -> AgentServiceLevel:
    waits = [first - declined for declined, first in rows if first is not None]
    return AgentServiceLevel(
        agent=agent,
        handled=len(rows),
        proposed=len(waits),
        within=sum(1 for wait in waits if wait <= service_level),
        median_to_proposal=_median(waits),
    )


def service_level_breaches() -> tuple[list[tuple[str, int]], list[tuple[date, int]]]:
    """Breached service levels per agent (the agent of the case when it was flagged, or
    "Unassigned") and per ISO week (its Monday, UTC), most recent week first."""
    flagged = Dispute.objects.filter(service_level_breached_at__isnull=False)
    by_agent = Counter(
        dict(
            flagged.values_list("agent__username")
            .annotate(n=Count("pk"))
            .order_by("agent__username")
        )
    )
    by_week: Counter[date] = Counter()
    for at in flagged.values_list("service_level_breached_at", flat=True).order_by():
        day = at.astimezone(UTC).date()
        by_week[day - timedelta(days=day.weekday())] += 1
    agents = sorted(((name or "Unassigned", n) for name, n in by_agent.items()))
    return agents, sorted(by_week.items(), reverse=True)


def dispute_statistics(*, service_level: timedelta) -> DisputeStatistics:
    """Count disputes by stage and outcome; time to resolution; agents' service level.

    Only submitted disputes count: a draft (or one that lapsed as a draft) is the freelancer's
    own, never a dispute anyone handled.
    """
    submitted = Dispute.objects.filter(submitted_at__isnull=False)
    stages = Counter(
        dict(submitted.values_list("status").annotate(n=Count("pk")).order_by("status"))
    )
    outcomes = Counter(
        dict(
            submitted.exclude(outcome="")
            .values_list("outcome")
            .annotate(n=Count("pk"))
            .order_by("outcome")
        )
    )
    durations = [
        closed - submitted
        for submitted, closed in Dispute.objects.filter(
            status=DStatus.CLOSED, submitted_at__isnull=False, closed_at__isnull=False
        ).values_list("submitted_at", "closed_at")
    ]
    per_agent: dict[str, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    handled = (
        Dispute.objects.filter(agent__isnull=False, declined_at__isnull=False)
        .annotate(first_proposed_at=Min("resolutions__proposed_at"))
        .values_list("agent__username", "declined_at", "first_proposed_at")
        .order_by()
    )
    for username, declined_at, first_proposed_at in handled:
        per_agent[username].append((declined_at, first_proposed_at))
    breaches = service_level_breaches()
    return DisputeStatistics(
        by_stage=[
            (status.label, stages[status.value]) for status in DStatus if status not in UNSUBMITTED
        ],
        by_outcome=[(outcome.label, outcomes[outcome.value]) for outcome in Dispute.Outcome],
        closed=len(durations),
        median_to_resolution=_median(durations),
        agents=[
            _service_level(agent, rows, service_level) for agent, rows in sorted(per_agent.items())
        ],
        overall=_service_level(
            "All agents", [row for rows in per_agent.values() for row in rows], service_level
        ),
        service_level=service_level,
        breaches_by_agent=breaches[0],
        breaches_by_week=breaches[1],
    )
