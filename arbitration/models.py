"""Binding arbitration: the window after a Notice of Non-Resolution, fees, cases and awards.

During the window (ARBITRATION_WINDOW_PERIOD after the notice) each party may agree to
arbitration by paying its share of the fee: a ledger transaction from its funding source to the
platform's fee account. At the window's end: both paid, a case opens; only one paid, that party
receives the disputed escrow R and its fee back; neither, R is refunded to the client. In a case
the arbitrator may request more evidence from either party with a due date, and issues one final
award splitting R, with written reasons. Nothing can change an award.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import AMOUNT
from disputes.models import Dispute


class Party(models.TextChoices):
    FREELANCER = "freelancer", "Freelancer"
    CLIENT = "client", "Client"


class ArbitrationFee(models.Model):
    dispute = models.ForeignKey(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="arbitration_fees"
    )
    party = models.CharField(max_length=16, choices=Party.choices)
    payer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    paid_at = models.DateTimeField()
    payment = models.ForeignKey(
        "contracts.LedgerTransaction", on_delete=models.PROTECT, related_name="+"
    )
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund = models.ForeignKey(
        "contracts.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dispute", "party"], name="fee_once_per_party"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="fee_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"Arbitration fee of the {self.party} on dispute #{self.dispute_id}"


class ArbitrationCase(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        AWARDED = "AWARDED", "Awarded"

    dispute = models.OneToOneField(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="arbitration_case"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    awarded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "opened_at"], name="case_status_idx")]

    def __str__(self) -> str:
        return f"Arbitration case #{self.pk} (dispute #{self.dispute_id})"


class EvidenceRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        CLOSED = "CLOSED", "Closed"

    case = models.ForeignKey(
        ArbitrationCase, on_delete=models.PROTECT, related_name="evidence_requests"
    )
    party = models.CharField(max_length=16, choices=Party.choices)
    message = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField()
    due_at = models.DateTimeField()
    reminded_48h_at = models.DateTimeField(null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "due_at"], name="evidence_request_due_idx")]

    def __str__(self) -> str:
        return f"Evidence request #{self.pk} to the {self.party}"


class Award(models.Model):
    """The arbitrator's final decision. Written once; there is no appeal."""

    case = models.OneToOneField(ArbitrationCase, on_delete=models.PROTECT, related_name="award")
    arbitrator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    to_freelancer = models.DecimalField(**AMOUNT)
    to_client = models.DecimalField(**AMOUNT)
    reasons = models.TextField()
    issued_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(to_freelancer__gte=0, to_client__gte=0),
                name="award_shares_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Award of case #{self.case_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("An award is final: it cannot be changed.")
        super().save(*args, **kwargs)


class ArbitrationQueueItem(Dispute):
    """A dispute as the arbitrators' queue shows it (the admin's view of arbitration)."""

    class Meta:
        proxy = True
        verbose_name = "Arbitration queue"
        verbose_name_plural = "Arbitration queue"
