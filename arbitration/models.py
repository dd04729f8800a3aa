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
from core.actions import PARTIES, Action, Actor, Lifecycle
from core.errors import Conflict, NotAllowed, NotAParty
from disputes.models import EVIDENCE_RULE, Dispute, FilingLocked

DStatus = Dispute.Status


class FeeAlreadyPaid(Conflict):
    code = "fee_already_paid"
    default_message = "You have already paid your arbitration fee."


class CaseNotOpen(Conflict):
    code = "case_not_open"
    default_message = "There is no open arbitration case on this dispute."


def _fee_unpaid(dispute, *, actor, **_) -> Conflict | None:
    paid = ArbitrationFee.objects.filter(dispute=dispute, party=actor).exists()
    return FeeAlreadyPaid() if paid else None


def _case_open(dispute, **_) -> Conflict | None:
    case = ArbitrationCase.objects.filter(dispute=dispute).only("status").first()
    if case is None or case.status != ArbitrationCase.Status.OPEN:
        return CaseNotOpen("The case is closed: its award is final.")
    return None


def _asked(dispute, *, actor, **_) -> Conflict | None:
    """In a case, a party adds evidence only while an arbitrator's request to it is open."""
    asked = EvidenceRequest.objects.filter(
        case__dispute=dispute, party=actor, status=EvidenceRequest.Status.OPEN
    ).exists()
    return None if asked else FilingLocked(EVIDENCE_RULE)


def _mediated_it(row, user, actor) -> bool:
    """Whoever mediated a dispute never arbitrates it."""
    return actor == Actor.ARBITRATOR and row.case.dispute.mediated_by(user)


# The arbitration stages' actions on the dispute itself: during the window each party may pay
# its fee (both paid: the case opens; at the window's end: the system closes it); in the case
# the arbitrator takes it, asks for evidence and issues the award.
Dispute.lifecycle.declare(
    Action(
        "pay_fee",
        sources=[DStatus.ARBITRATION_WINDOW],
        target=None,
        actors=PARTIES,
        before="arbitration_window",
        guard=_fee_unpaid,
        awaited=[DStatus.ARBITRATION_WINDOW],
        awaited_if=lambda actor: ~Q(arbitration_fees__party=actor.value),
        refuse_state=lambda d: Conflict(
            f"This dispute is {d.get_status_display().lower()}: the arbitration window is not "
            "open.",
            code="illegal_transition",
        ),
        refuse_actor=lambda: NotAllowed("Only the parties pay for arbitration."),
        late="The arbitration window closed {when}.",
        emits="arbitration.fee_paid",
    ),
    Action(
        "open_case",
        sources=[DStatus.ARBITRATION_WINDOW],
        target=DStatus.IN_ARBITRATION,
        actors=[Actor.SYSTEM],
        emits="arbitration.case_opened",
    ),
    Action(
        "close_window",
        sources=[DStatus.ARBITRATION_WINDOW],
        target=DStatus.CLOSED,
        actors=[Actor.SYSTEM],
        after="arbitration_window",
    ),
    Action(
        "assign_arbitrator",
        sources=[DStatus.IN_ARBITRATION],
        target=None,
        actors=[Actor.ARBITRATOR],
        refuse_state=lambda d: Conflict(
            f"This dispute is {d.get_status_display().lower()}: no arbitrator needed."
        ),
    ),
    # Automatic assignment once both fees are paid and the case opens.
    Action(
        "auto_assign_arbitrator",
        sources=[DStatus.IN_ARBITRATION],
        target=None,
        actors=[Actor.SYSTEM],
    ),
    Action(
        "reassign_arbitrator",
        sources=[DStatus.IN_ARBITRATION],
        target=None,
        actors=[Actor.ARBITRATOR, Actor.SUPPORT],
        refuse_state=lambda d: Conflict(
            f"This dispute is {d.get_status_display().lower()}: no arbitrator needed."
        ),
        refuse_actor=lambda: NotAllowed("Only arbitrators and support reassign a case."),
    ),
    Action(
        "add_requested_evidence",
        sources=[DStatus.IN_ARBITRATION],
        target=None,
        actors=PARTIES,
        guard=_asked,
        refuse_actor=NotAParty,
        label="send this evidence",
    ),
    Action(
        "request_evidence",
        sources=[DStatus.IN_ARBITRATION],
        target=None,
        actors=[Actor.ARBITRATOR],
        guard=_case_open,
        refuse_state=lambda d: CaseNotOpen(),
        emits="evidence_request.opened",
    ),
    Action(
        "award",
        sources=[DStatus.IN_ARBITRATION],
        target=DStatus.CLOSED,
        actors=[Actor.ARBITRATOR],
        guard=_case_open,
        refuse_state=lambda d: CaseNotOpen(),
        emits="award.issued",
    ),
)

# However a case opens (both fees paid), it goes to the available arbitrator with the fewest
# open cases, never to the agent who mediated it.
Dispute.lifecycle.on_entering(
    DStatus.IN_ARBITRATION, "arbitration.services.cases_enter_arbitration"
)


class Party(models.TextChoices):
    FREELANCER = "freelancer", "Freelancer"
    CLIENT = "client", "Client"


class ArbitrationFee(models.Model):
    class Status(models.TextChoices):
        PAID = "PAID", "Paid"
        REFUNDED = "REFUNDED", "Refunded"

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
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PAID)
    refunded_at = models.DateTimeField(null=True, blank=True)
    refund = models.ForeignKey(
        "contracts.LedgerTransaction",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    # Paid with the dispute's ``pay_fee``; refunded to the only party who paid when the window
    # closes, or when the parties settle by an offer before a case opens.
    lifecycle = Lifecycle(
        name="arbitration fee",
        statuses=Status,
        contract="dispute.refund_request.contract",
        initial=[Status.PAID],
        actions=[
            Action("refund", sources=[Status.PAID], target=Status.REFUNDED, actors=[Actor.SYSTEM]),
        ],
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
        SETTLED = "SETTLED", "Settled by the parties"

    dispute = models.OneToOneField(
        "disputes.Dispute", on_delete=models.PROTECT, related_name="arbitration_case"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    opened_at = models.DateTimeField()
    awarded_at = models.DateTimeField(null=True, blank=True)

    lifecycle = Lifecycle(
        name="arbitration case",
        statuses=Status,
        contract="dispute.refund_request.contract",
        initial=[Status.OPEN],
        conflicts=lambda case, user, actor: (
            actor == Actor.ARBITRATOR and case.dispute.mediated_by(user)
        ),
        actions=[
            Action(
                "award",
                sources=[Status.OPEN],
                target=Status.AWARDED,
                actors=[Actor.ARBITRATOR],
                refuse_state=lambda case: CaseNotOpen("The case is closed: its award is final."),
            ),
            # The parties settled by an offer before the award: the case closes, fees stay.
            Action(
                "settle",
                sources=[Status.OPEN],
                target=Status.SETTLED,
                actors=[Actor.SYSTEM],
            ),
        ],
    )

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

    # The party asked uploads before the due date; the due date closes it, and so does the end of
    # the case (the award, or a settlement).
    lifecycle = Lifecycle(
        name="evidence request",
        statuses=Status,
        contract="case.dispute.refund_request.contract",
        initial=[Status.OPEN],
        timeline="arbitration.timeline.write",
        conflicts=_mediated_it,
        # News about the dispute, whose GET shows its open evidence requests.
        subject=("disputes.Dispute", "case.dispute_id"),
        actions=[
            Action(
                "answer",
                sources=[Status.OPEN],
                target=None,
                actors=PARTIES,
                before="evidence_request",
                awaited=[Status.OPEN],
                awaited_if=lambda actor: Q(party=actor.value),
                guard=lambda r, actor, **_: (
                    None
                    if r.party == actor
                    else FilingLocked("The arbitrator asked the other party for this evidence.")
                ),
                refuse_state=lambda r: FilingLocked("This evidence request is closed."),
                refuse_actor=NotAParty,
                label="send this evidence",
            ),
            Action(
                "close",
                sources=[Status.OPEN],
                target=Status.CLOSED,
                actors=[Actor.SYSTEM],
                after="evidence_request",
                emits="evidence_request.closed",
            ),
            Action(
                "close_with_case",
                sources=[Status.OPEN],
                target=Status.CLOSED,
                actors=[Actor.SYSTEM],
                emits="evidence_request.closed",
            ),
        ],
    )

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
