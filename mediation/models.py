"""Non-binding resolutions: a mediation agent's proposed split, and the parties' answers.

A declined dispute waits for an agent (the agents' queue, oldest decline first, with a 2-day
service level). The agent proposes an exact split of the disputed escrow R with a written
rationale; both parties have RESOLUTION_RESPONSE_PERIOD to answer (the deadline is the dispute's
``response_due_at``, the one place every stage keeps its deadline). Both accept: the money moves
as proposed. A rejection, or silence from either at the deadline: a Notice of Non-Resolution,
and the dispute's arbitration window opens (the ``arbitration`` app). Below the small-claims
limit (when enabled), the agent's decision is binding and the money moves at once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import AMOUNT
from core.actions import PARTIES, Action, Actor, Lifecycle
from core.errors import Conflict, NotAllowed
from disputes.models import Dispute

DStatus = Dispute.Status


class AlreadyAnswered(Conflict):
    code = "already_answered"
    default_message = "You have already answered this resolution."


class NotSmallClaim(Conflict):
    code = "not_a_small_claim"
    default_message = "This dispute is above the small-claims limit: propose a resolution instead."


def _unanswered(resolution, *, actor, **_) -> Conflict | None:
    return AlreadyAnswered() if resolution.answer_of(actor) else None


def _resolution_unanswered(dispute, *, actor, **_) -> Conflict | None:
    """A party answers the dispute's proposed resolution once (its resolutions are read from
    the prefetch when the page loaded them)."""
    proposed = [r for r in dispute.resolutions.all() if r.status == Resolution.Status.PROPOSED]
    return _unanswered(proposed[0], actor=actor) if proposed else _not_proposed(dispute)


def _other_accepted(resolution, actor) -> bool:
    other = Actor.CLIENT if actor == Actor.FREELANCER else Actor.FREELANCER
    return resolution.answer_of(other) == Resolution.Answer.ACCEPTED


def _small_claim(dispute, **_) -> Conflict | None:
    from .services import is_small_claim

    return None if is_small_claim(dispute.refund_request.amount) else NotSmallClaim()


def _not_proposed(dispute) -> Conflict:
    return Conflict(
        f"This dispute is {dispute.get_status_display().lower()}: there is no proposed "
        "resolution to answer.",
        code="illegal_transition",
    )


# The mediation stage's actions on the dispute itself: an agent takes the case and proposes (or,
# for a small claim, decides); the parties answer before the resolution's deadline; the outcome
# closes the dispute or issues the Notice of Non-Resolution.
def _agent_tier(dispute, *, user, **_) -> NotAllowed | None:
    """A high-value dispute is taken only by a senior mediation agent."""
    from disputes.services import tier_refusal

    return tier_refusal(dispute, user, "agent")


def _no_agent_needed(dispute) -> Conflict:
    return Conflict(f"This dispute is {dispute.get_status_display().lower()}: no agent needed.")


Dispute.lifecycle.declare(
    Action(
        "assign_agent",
        sources=[DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED],
        target=None,
        actors=[Actor.AGENT],
        guard=_agent_tier,
        refuse_state=_no_agent_needed,
        refuse_actor=lambda: NotAllowed("Only mediation agents can take this action."),
    ),
    # Automatic assignment as a case enters mediation (``disputes.services.assignment``).
    Action(
        "auto_assign_agent",
        sources=[DStatus.IN_MEDIATION],
        target=None,
        actors=[Actor.SYSTEM],
    ),
    # The agents' service level ran out without a proposal: the case is flagged, once.
    Action(
        "breach_service_level",
        sources=[DStatus.IN_MEDIATION],
        target=None,
        actors=[Actor.SYSTEM],
        after="mediation_service_level_breach",
    ),
    # Another agent takes the case: a staff decision, with its reason on the timeline.
    Action(
        "reassign_agent",
        sources=[DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED],
        target=None,
        actors=[Actor.AGENT, Actor.SUPPORT],
        refuse_state=_no_agent_needed,
        refuse_actor=lambda: NotAllowed("Only mediation agents and support reassign a case."),
    ),
    Action(
        "propose",
        sources=[DStatus.IN_MEDIATION],
        target=DStatus.RESOLUTION_PROPOSED,
        actors=[Actor.AGENT],
        emits="resolution.proposed",
    ),
    Action(
        "decide_small_claim",
        sources=[DStatus.IN_MEDIATION],
        target=DStatus.CLOSED,
        outcome=DStatus.CLOSED,
        actors=[Actor.AGENT],
        guard=_small_claim,
    ),
    Action(
        "answer_resolution",
        sources=[DStatus.RESOLUTION_PROPOSED],
        target=None,
        actors=PARTIES,
        before="resolution_response",
        guard=_resolution_unanswered,
        awaited=[DStatus.RESOLUTION_PROPOSED],
        awaited_if=lambda actor: Q(
            resolutions__status=Resolution.Status.PROPOSED,
            **{f"resolutions__{actor.value}_answer": ""},
        ),
        refuse_state=_not_proposed,
        refuse_actor=lambda: NotAllowed("Only the parties answer a proposed resolution."),
        late="The time to answer this resolution ended {when}.",
    ),
    Action(
        "settle_resolution",
        sources=[DStatus.RESOLUTION_PROPOSED],
        target=DStatus.CLOSED,
        actors=[Actor.SYSTEM],
    ),
    # The Notice of Non-Resolution: at the answer's deadline, or at once after a rejection.
    Action(
        "issue_notice",
        sources=[DStatus.RESOLUTION_PROPOSED],
        target=DStatus.ARBITRATION_WINDOW,
        actors=[Actor.SYSTEM],
        after="resolution_response",
        emits="notice.issued",
    ),
)


# Every path into mediation (the client's decline, or any later one) arms the agents' service
# level and assigns the case by load.
Dispute.lifecycle.on_entering(DStatus.IN_MEDIATION, "mediation.services.cases_enter_mediation")


class Resolution(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "Waiting for both parties"
        ACCEPTED = "ACCEPTED", "Accepted by both parties"
        REJECTED = "REJECTED", "Rejected"
        EXPIRED = "EXPIRED", "Not answered in time"
        BINDING = "BINDING", "Binding small-claims decision"
        SUPERSEDED = "SUPERSEDED", "Superseded: the parties settled"

    class Answer(models.TextChoices):
        ACCEPTED = "ACCEPTED", "Accepted"
        REJECTED = "REJECTED", "Rejected"

    # Proposed (or, for a small claim, binding at once); each party answers once; the second
    # acceptance accepts it, a rejection rejects it, and the deadline expires it.
    lifecycle = Lifecycle(
        name="resolution",
        statuses=Status,
        contract="dispute.refund_request.contract",
        initial=[Status.PROPOSED, Status.BINDING],
        timeline="mediation.timeline.write",
        # The parties' answers are news about the dispute, whose GET shows the resolution.
        subject=("disputes.Dispute", "dispute_id"),
        actions=[
            Action(
                "accept",
                sources=[Status.PROPOSED],
                target=None,
                outcome=Status.ACCEPTED,
                actors=PARTIES,
                guard=lambda r, actor, **kw: (
                    _unanswered(r, actor=actor)
                    or (
                        Conflict("The other party accepted already.")
                        if _other_accepted(r, actor)
                        else None
                    )
                ),
                emits="resolution.accepted",
            ),
            Action(
                "accept_last",
                sources=[Status.PROPOSED],
                target=Status.ACCEPTED,
                actors=PARTIES,
                guard=lambda r, actor, **kw: (
                    _unanswered(r, actor=actor)
                    or (
                        None
                        if _other_accepted(r, actor)
                        else Conflict("Waiting for the other party.")
                    )
                ),
                emits="resolution.accepted",
            ),
            Action(
                "reject",
                sources=[Status.PROPOSED],
                target=Status.REJECTED,
                actors=PARTIES,
                guard=_unanswered,
                emits="resolution.rejected",
            ),
            Action(
                "expire",
                sources=[Status.PROPOSED],
                target=Status.EXPIRED,
                actors=[Actor.SYSTEM],
                after="resolution_response",
            ),
            # The parties settled by an offer while it waited for their answers.
            Action(
                "supersede",
                sources=[Status.PROPOSED],
                target=Status.SUPERSEDED,
                actors=[Actor.SYSTEM],
            ),
        ],
    )

    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="resolutions"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    to_freelancer = models.DecimalField(**AMOUNT)
    to_client = models.DecimalField(**AMOUNT)
    rationale = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices)
    freelancer_answer = models.CharField(max_length=16, choices=Answer.choices, blank=True)
    freelancer_answered_at = models.DateTimeField(null=True, blank=True)
    client_answer = models.CharField(max_length=16, choices=Answer.choices, blank=True)
    client_answered_at = models.DateTimeField(null=True, blank=True)
    proposed_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dispute"],
                condition=Q(status="PROPOSED"),
                name="resolution_one_open_per_dispute",
            ),
            models.CheckConstraint(
                condition=Q(to_freelancer__gte=0, to_client__gte=0),
                name="resolution_shares_not_negative",
            ),
        ]
        indexes = [models.Index(fields=["dispute", "proposed_at"], name="resolution_dispute_idx")]

    def __str__(self) -> str:
        return f"Resolution #{self.pk} of dispute #{self.dispute_id}"

    def answer_of(self, party: str) -> str:
        return self.freelancer_answer if party == "freelancer" else self.client_answer


class MediationQueueItem(Dispute):
    """A dispute as the agents' queue shows it (the admin's view of mediation; no new table)."""

    class Meta:
        proxy = True
        verbose_name = "Mediation queue"
        verbose_name_plural = "Mediation queue"
