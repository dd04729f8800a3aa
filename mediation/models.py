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
from disputes.models import Dispute


class Resolution(models.Model):
    class Status(models.TextChoices):
        PROPOSED = "PROPOSED", "Waiting for both parties"
        ACCEPTED = "ACCEPTED", "Accepted by both parties"
        REJECTED = "REJECTED", "Rejected"
        EXPIRED = "EXPIRED", "Not answered in time"
        BINDING = "BINDING", "Binding small-claims decision"

    TRANSITIONS = {
        Status.PROPOSED: frozenset({Status.ACCEPTED, Status.REJECTED, Status.EXPIRED}),
        Status.ACCEPTED: frozenset(),
        Status.REJECTED: frozenset(),
        Status.EXPIRED: frozenset(),
        Status.BINDING: frozenset(),
    }

    class Answer(models.TextChoices):
        ACCEPTED = "ACCEPTED", "Accepted"
        REJECTED = "REJECTED", "Rejected"

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
