"""Refund requests, disputes, their evidence and timeline, and support cases.

The path (DESIGN §3): a client ends a contract with money left in a milestone's escrow, which
opens a ``RefundRequest`` for it. The freelancer accepts it, or files a ``Dispute`` (drafted, then
submitted) before ``RefundRequest.response_due_at``; silence refunds the client. The client then
accepts or declines a submitted dispute before ``Dispute.response_due_at``; silence releases the
disputed amount. A decline sends the dispute to mediation (the ``mediation`` app goes on from
there). Every state change is an action of the model's table (``lifecycle``, see
``core.actions``) and appends a ``TimelineEvent`` in the same transaction.

The module is longer than most on purpose: each stateful model keeps its table of named actions
beside it (three of them here), so a rule is read where the model is.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.lookups import Exact
from django.urls import reverse

from contracts.models import AMOUNT, private_files
from core import deadlines
from core.actions import PARTIES, Action, Actor, Lifecycle, holds_role
from core.deadlines import Deadline
from core.errors import Conflict, IllegalTransition, NotAllowed, NotAParty
from core.money import MinorUnits
from core.uploads import download_name

__all__ = [
    "Deadline",
    "Dispute",
    "DisputeMessage",
    "Evidence",
    "Macro",
    "RefundRequest",
    "SupportCase",
    "TimelineEvent",
]


class DisputeAlreadyStarted(Conflict):
    code = "dispute_exists"
    default_message = "A dispute has already been started for this refund request."


class FilingLocked(Conflict):
    code = "filing_locked"
    default_message = "A submitted dispute cannot be edited."


def _no_dispute_yet(request, **_) -> Conflict | None:
    return (
        DisputeAlreadyStarted() if Dispute.objects.filter(refund_request=request).exists() else None
    )


def _filing_locked(dispute) -> Conflict:
    if dispute.status == Dispute.Status.LAPSED:
        return FilingLocked(
            "This draft was not submitted before the refund request's deadline; it can no "
            "longer be changed or submitted.",
            code="draft_lapsed",
        )
    return FilingLocked()


EVIDENCE_RULE = (
    "Evidence can be added only by the freelancer while drafting, by the client while the "
    "dispute waits for their answer, or by a party the arbitrator asked."
)


def _thread_not_open(dispute) -> Conflict:
    if dispute.is_open:
        return Conflict(
            "Messages open when the client declines the dispute and it goes to mediation.",
            code="messages_not_open",
        )
    return Conflict(
        "This dispute is closed: its messages can be read, no longer answered.",
        code="dispute_closed",
    )


class NotInThread(NotAllowed):
    code = "not_in_thread"
    default_message = (
        "Only the parties and the staff member assigned to the case read and write its messages."
    )


def _in_the_thread(dispute, *, actor, user, **_) -> NotAllowed | None:
    """A party, or the staff member assigned to the case now (``Dispute.thread_staff_id``)."""
    if actor in PARTIES or user.pk == dispute.thread_staff_id:
        return None
    return NotInThread()


def _a_party_deadline_runs(dispute, **_) -> Conflict | None:
    if _party_deadline(dispute) is not None:
        return None
    return Conflict(
        "No evidence request is open: there is no party deadline to extend.", code="no_deadline"
    )


def _party_deadline(dispute):
    """The party deadline running on ``dispute`` now, and the row holding it (for extensions)."""
    if dispute.status == Dispute.Status.DRAFT:
        request = dispute.refund_request
        return deadlines.kind("refund_request_response", request), request
    for kind in deadlines.kinds_for(Dispute):
        if kind.applies_to(dispute) and kind.enforced and kind.extendable:
            return kind, dispute
    finder = Dispute.PARTY_DEADLINE_FINDERS.get(dispute.status)
    return finder(dispute) if finder else None


class RefundRequest(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Waiting for the freelancer"
        ACCEPTED = "ACCEPTED", "Accepted by the freelancer"
        EXPIRED = "EXPIRED", "Refunded: the freelancer did not answer in time"
        DISPUTED = "DISPUTED", "Disputed by the freelancer"

    # The freelancer answers before the deadline: accepts (refunded), or starts a draft dispute
    # and submits it (DISPUTED). Silence: the deadline refunds the client (EXPIRED).
    lifecycle = Lifecycle(
        name="refund request",
        statuses=Status,
        contract="contract",
        initial=[Status.OPEN],
        timeline="disputes.services.timeline.write",
        created="refund_request.opened",
        actions=[
            Action(
                "accept",
                sources=[Status.OPEN],
                target=Status.ACCEPTED,
                actors=[Actor.FREELANCER],
                before="refund_request_response",
                awaited=[Status.OPEN],
                label="answer this refund request",
                emits="refund_request.accepted",
            ),
            Action(
                "start_dispute",
                sources=[Status.OPEN],
                target=None,
                outcome=Status.DISPUTED,
                actors=[Actor.FREELANCER],
                before="refund_request_response",
                guard=_no_dispute_yet,
                label="dispute this refund request",
            ),
            Action(
                "dispute",
                sources=[Status.OPEN],
                target=Status.DISPUTED,
                actors=[Actor.FREELANCER],
                before="refund_request_response",
                label="submit this dispute",
            ),
            Action(
                "expire",
                sources=[Status.OPEN],
                target=Status.EXPIRED,
                actors=[Actor.SYSTEM],
                after="refund_request_response",
                emits="refund_request.expired",
            ),
        ],
    )

    milestone = models.OneToOneField(
        "contracts.Milestone", on_delete=models.PROTECT, related_name="refund_request"
    )
    contract = models.ForeignKey(
        "contracts.Contract", on_delete=models.PROTECT, related_name="refund_requests"
    )
    currency = models.CharField(max_length=3)
    escrowed = models.DecimalField(**AMOUNT, help_text="E: in escrow when the contract ended.")
    paid = models.DecimalField(**AMOUNT, help_text="P: paid by the client on ending.")
    amount = models.DecimalField(**AMOUNT, help_text="R = E − P: the refund asked for.")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    response_due_at = models.DateTimeField()
    reminded_48h_at = models.DateTimeField(null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="refund_paid_not_negative"),
            models.CheckConstraint(
                # In minor units: on SQLite, 0.1 + 0.2 would not equal 0.3.
                condition=Exact(MinorUnits("escrowed"), MinorUnits("paid") + MinorUnits("amount")),
                name="refund_amount_is_escrow_minus_paid",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "response_due_at"], name="refund_due_idx"),
            models.Index(fields=["contract", "id"], name="refund_contract_idx"),
        ]

    def __str__(self) -> str:
        return f"Refund request #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("disputes:refund-request", kwargs={"pk": self.pk})

    def current_deadline(self) -> Deadline | None:
        """The deadline that applies now, or None (see ``core.deadlines``)."""
        return deadlines.current(self)


class Dispute(models.Model):
    class Status(models.TextChoices):
        DRAFT = "DRAFT", "Draft"
        AWAITING_CLIENT = "AWAITING_CLIENT", "Waiting for the client"
        IN_MEDIATION = "IN_MEDIATION", "In mediation"
        RESOLUTION_PROPOSED = "RESOLUTION_PROPOSED", "Resolution proposed"
        ARBITRATION_WINDOW = "ARBITRATION_WINDOW", "Not resolved: arbitration window open"
        IN_ARBITRATION = "IN_ARBITRATION", "In arbitration"
        CLOSED = "CLOSED", "Closed"
        LAPSED = "LAPSED", "Not submitted in time"

    OPEN = frozenset(
        {
            Status.DRAFT,
            Status.AWAITING_CLIENT,
            Status.IN_MEDIATION,
            Status.RESOLUTION_PROPOSED,
            Status.ARBITRATION_WINDOW,
            Status.IN_ARBITRATION,
        }
    )
    # A later stage whose party deadline lives on its own rows (an arbitrator's evidence request)
    # registers ``finder(dispute) -> (DeadlineKind, row) | None`` for the extension.
    PARTY_DEADLINE_FINDERS: dict = {}

    # The filing and the client's answer. The mediation and arbitration apps declare the actions
    # of their stages on this same table (``Dispute.lifecycle.declare``), beside their models.
    lifecycle = Lifecycle(
        name="dispute",
        statuses=Status,
        contract="refund_request.contract",
        initial=[Status.DRAFT],
        timeline="disputes.services.timeline.write",
        # However it closes (its ``outcome`` says how), integrators hear of it.
        entering={Status.CLOSED: "dispute.closed"},
        # Whoever mediated a dispute never arbitrates it.
        conflicts=lambda d, user, actor: actor == Actor.ARBITRATOR and d.mediated_by(user),
        actions=[
            Action(
                "update",
                sources=[Status.DRAFT],
                target=None,
                actors=[Actor.FREELANCER],
                before="refund_request_response",
                before_via="refund_request",
                refuse_state=_filing_locked,
                label="submit this dispute",
            ),
            Action(
                "submit",
                sources=[Status.DRAFT],
                target=Status.AWAITING_CLIENT,
                actors=[Actor.FREELANCER],
                before="refund_request_response",
                before_via="refund_request",
                refuse_state=_filing_locked,
                awaited=[Status.DRAFT],
                label="submit this dispute",
                emits="dispute.submitted",
            ),
            Action("lapse", sources=[Status.DRAFT], target=Status.LAPSED, actors=[Actor.SYSTEM]),
            Action(
                "add_evidence",
                sources=[Status.AWAITING_CLIENT],
                target=None,
                actors=PARTIES,
                before="client_response",
                guard=lambda d, actor, **_: (
                    None if actor == Actor.CLIENT else FilingLocked(EVIDENCE_RULE)
                ),
                refuse_state=lambda d: FilingLocked(EVIDENCE_RULE),
                refuse_actor=NotAParty,
                label="add evidence",
            ),
            Action(
                "accept",
                sources=[Status.AWAITING_CLIENT],
                target=Status.CLOSED,
                actors=[Actor.CLIENT],
                before="client_response",
                refuse_state=lambda d: IllegalTransition(
                    model="dispute",
                    current=d.status,
                    target=Dispute.Status.CLOSED,
                    message=f"This dispute is {d.get_status_display().lower()}: only a dispute "
                    "waiting for the client's answer can be accepted.",
                ),
                awaited=[Status.AWAITING_CLIENT],
                label="answer this dispute",
                emits="dispute.accepted",
            ),
            Action(
                "decline",
                sources=[Status.AWAITING_CLIENT],
                target=Status.IN_MEDIATION,
                actors=[Actor.CLIENT],
                before="client_response",
                awaited=[Status.AWAITING_CLIENT],
                label="answer this dispute",
                emits="dispute.declined",
            ),
            Action(
                "client_silent",
                sources=[Status.AWAITING_CLIENT],
                target=Status.CLOSED,
                actors=[Actor.SYSTEM],
                after="client_response",
            ),
            Action(
                "note",
                sources=Status.values,
                target=None,
                actors=[Actor.AGENT, Actor.ARBITRATOR],
                refuse_actor=lambda: NotAllowed(
                    "Only mediation agents and arbitrators write internal notes."
                ),
            ),
            # The parties and the assigned agent (then the arbitrator) write to each other from
            # the client's decline until the dispute closes; text only, so evidence still comes
            # through the evidence rules.
            Action(
                "message",
                sources=[
                    Status.IN_MEDIATION,
                    Status.RESOLUTION_PROPOSED,
                    Status.ARBITRATION_WINDOW,
                    Status.IN_ARBITRATION,
                ],
                target=None,
                actors=[Actor.CLIENT, Actor.FREELANCER, Actor.AGENT, Actor.ARBITRATOR],
                guard=_in_the_thread,
                refuse_state=_thread_not_open,
                refuse_actor=NotInThread,
            ),
            Action(
                "extend",
                sources=[
                    Status.DRAFT,
                    Status.AWAITING_CLIENT,
                    Status.RESOLUTION_PROPOSED,
                    Status.ARBITRATION_WINDOW,
                    Status.IN_ARBITRATION,
                ],
                target=None,
                actors=[Actor.AGENT],
                before=_party_deadline,
                guard=_a_party_deadline_runs,
                refuse_state=lambda d: Conflict(
                    f"This dispute is {d.get_status_display().lower()}: no party deadline runs.",
                    code="no_deadline",
                ),
                refuse_actor=lambda: NotAllowed("Only mediation agents can take this action."),
                label="extend it",
                emits="deadline.extended",
            ),
        ],
    )

    class Reason(models.TextChoices):
        NON_PAYMENT = "NON_PAYMENT", "Non-payment"
        BREACH_OF_CONTRACT = "BREACH_OF_CONTRACT", "Breach of contract"
        SCOPE_DISAGREEMENT = "SCOPE_DISAGREEMENT", "Scope disagreement"
        QUALITY = "QUALITY", "Quality of work"
        MISCOMMUNICATION = "MISCOMMUNICATION", "Miscommunication"
        OTHER = "OTHER", "Other"

    class Outcome(models.TextChoices):
        CLIENT_ACCEPTED = "CLIENT_ACCEPTED", "The client accepted the dispute"
        CLIENT_SILENT = "CLIENT_SILENT", "The client did not answer in time"
        RESOLUTION_ACCEPTED = "RESOLUTION_ACCEPTED", "Both parties accepted the resolution"
        SMALL_CLAIM = "SMALL_CLAIM", "Decided by the mediation agent (small claim)"
        NO_ARBITRATION = "NO_ARBITRATION", "Neither party paid for arbitration: refunded"
        ONLY_FREELANCER_PAID = "ONLY_FREELANCER_PAID", "Only the freelancer paid for arbitration"
        ONLY_CLIENT_PAID = "ONLY_CLIENT_PAID", "Only the client paid for arbitration"
        AWARDED = "AWARDED", "Decided by the arbitrator's award"
        SETTLED = "SETTLED", "Settled by the parties: an offer was accepted"

    refund_request = models.OneToOneField(
        RefundRequest, on_delete=models.PROTECT, related_name="dispute"
    )
    milestone = models.ForeignKey(
        "contracts.Milestone", on_delete=models.PROTECT, related_name="disputes"
    )
    status = models.CharField(max_length=24, choices=Status.choices, default=Status.DRAFT)
    outcome = models.CharField(max_length=32, choices=Outcome.choices, blank=True)
    # Step 1: feedback on the client, held back from the client until the dispute closes.
    feedback_rating = models.PositiveSmallIntegerField()
    feedback_comment = models.TextField()
    # Step 2: details.
    reason = models.CharField(max_length=24, choices=Reason.choices, blank=True)
    description = models.TextField(blank=True)
    # Step 3: D, the amount the freelancer asks to have reviewed (0 < D <= R).
    amount = models.DecimalField(**AMOUNT, null=True, blank=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    # The deadline of the current stage: the client's answer, the parties' answer to a proposed
    # resolution, or the arbitration window. ``stage_started_at`` is when that stage began.
    response_due_at = models.DateTimeField(null=True, blank=True)
    stage_started_at = models.DateTimeField(null=True, blank=True)
    reminded_48h_at = models.DateTimeField(null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # The mediation agent and the arbitrator who took the case.
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes_as_agent",
    )
    agent_assigned_at = models.DateTimeField(null=True, blank=True)
    # The agents' service level (MEDIATION_SERVICE_LEVEL after the case entered mediation), and
    # when the sweep found it breached: the case is flagged once and goes to the queue's top.
    service_level_due_at = models.DateTimeField(null=True, blank=True)
    service_level_breached_at = models.DateTimeField(null=True, blank=True)
    arbitrator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="disputes_as_arbitrator",
    )
    to_freelancer = models.DecimalField(**AMOUNT, null=True, blank=True)
    to_client = models.DecimalField(**AMOUNT, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["milestone"],
                condition=Q(
                    status__in=[
                        "DRAFT",
                        "AWAITING_CLIENT",
                        "IN_MEDIATION",
                        "RESOLUTION_PROPOSED",
                        "ARBITRATION_WINDOW",
                        "IN_ARBITRATION",
                    ]
                ),
                name="dispute_one_open_per_milestone",
            ),
            models.CheckConstraint(
                condition=Q(feedback_rating__gte=1, feedback_rating__lte=5),
                name="dispute_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0),
                name="dispute_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(status="DRAFT") | Q(status="LAPSED") | Q(amount__isnull=False),
                name="dispute_submitted_has_amount",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "response_due_at"], name="dispute_due_idx"),
            models.Index(fields=["status", "declined_at"], name="dispute_declined_idx"),
            models.Index(
                fields=["status", "service_level_due_at"], name="dispute_service_level_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Dispute #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("disputes:dispute", kwargs={"pk": self.pk})

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def mediated_by(self, user) -> bool:
        """Whether ``user`` is or ever was this dispute's mediation agent (one query at most).

        An agent takes a case (and proposes on it) only by being assigned, so every agent who
        mediated it is on its timeline.
        """
        if self.agent_id == user.pk:
            return True
        return TimelineEvent.objects.filter(
            dispute=self, kind=TimelineEvent.Kind.AGENT_ASSIGNED, actor=user
        ).exists()

    @property
    def thread_staff_id(self) -> int | None:
        """The staff member in the parties' message thread: the mediation agent, then, once the
        case is in arbitration, the arbitrator (whoever took each; None until someone did)."""
        if self.status == self.Status.IN_ARBITRATION or self.arbitrator_id is not None:
            return self.arbitrator_id
        return self.agent_id

    def in_thread(self, user) -> bool:
        """Whether ``user`` reads this dispute's messages: a party, or its staff member now."""
        if user.pk in Dispute.lifecycle.parties_of(self):
            return True
        return user.pk == self.thread_staff_id and (
            holds_role(user, Actor.AGENT) or holds_role(user, Actor.ARBITRATOR)
        )

    @property
    def feedback_is_visible_to_client(self) -> bool:
        """Blind feedback: the client reads it only once the dispute is over."""
        return not self.is_open

    def current_deadline(self) -> Deadline | None:
        """The deadline that applies now, or None (load ``refund_request`` with the dispute)."""
        return deadlines.current(self)


class Evidence(models.Model):
    """A file a party attached to a dispute, or a freelancer to a support case."""

    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, null=True, blank=True, related_name="evidence"
    )
    support_case = models.ForeignKey(
        "disputes.SupportCase",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="evidence",
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    file = models.FileField(storage=private_files, max_length=255)
    name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    uploaded_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "evidence"
        constraints = [
            models.CheckConstraint(
                condition=Q(dispute__isnull=False, support_case__isnull=True)
                | Q(dispute__isnull=True, support_case__isnull=False),
                name="evidence_belongs_to_one_case",
            ),
        ]
        indexes = [models.Index(fields=["dispute", "uploaded_at"], name="evidence_dispute_idx")]

    def __str__(self) -> str:
        return f"Evidence #{self.pk} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("disputes:evidence-download", kwargs={"pk": self.pk})

    @property
    def download_name(self) -> str:
        """The generated name the file downloads under; ``name`` is only ever shown."""
        return download_name("evidence", self.pk, self.content_type)


class TimelineEvent(models.Model):
    """One thing that happened to a refund request or its dispute. Written once, never changed."""

    class Kind(models.TextChoices):
        REFUND_REQUESTED = "REFUND_REQUESTED", "Contract ended; refund requested"
        REFUND_ACCEPTED = "REFUND_ACCEPTED", "Refund accepted by the freelancer"
        REFUND_EXPIRED = "REFUND_EXPIRED", "Refunded: the freelancer did not answer in time"
        DISPUTE_FILED = "DISPUTE_FILED", "Dispute filed"
        EVIDENCE_ADDED = "EVIDENCE_ADDED", "Evidence added"
        DISPUTE_ACCEPTED = "DISPUTE_ACCEPTED", "Dispute accepted by the client"
        CLIENT_SILENT = "CLIENT_SILENT", "Released: the client did not answer in time"
        DISPUTE_DECLINED = "DISPUTE_DECLINED", "Dispute declined by the client; sent to mediation"
        DRAFT_LAPSED = "DRAFT_LAPSED", "Draft dispute not submitted in time"
        AGENT_ASSIGNED = "AGENT_ASSIGNED", "A mediation agent took the case"
        SERVICE_LEVEL_BREACHED = "SERVICE_LEVEL_BREACHED", "Mediation service level breached"
        INTERNAL_NOTE = "INTERNAL_NOTE", "Internal note"
        RESOLUTION_PROPOSED = "RESOLUTION_PROPOSED", "Resolution proposed"
        RESOLUTION_ACCEPTED = "RESOLUTION_ACCEPTED", "Resolution accepted"
        RESOLUTION_REJECTED = "RESOLUTION_REJECTED", "Resolution rejected"
        RESOLUTION_SETTLED = "RESOLUTION_SETTLED", "Both accepted: money moved as proposed"
        SMALL_CLAIM_DECIDED = "SMALL_CLAIM_DECIDED", "Small claim decided by the agent"
        NON_RESOLUTION = "NON_RESOLUTION", "Notice of Non-Resolution"
        FEE_PAID = "FEE_PAID", "Arbitration fee paid"
        ARBITRATION_OPENED = "ARBITRATION_OPENED", "Arbitration case opened"
        ARBITRATION_DEFAULT = "ARBITRATION_DEFAULT", "Only one party paid: R to that party"
        ARBITRATION_LAPSED = "ARBITRATION_LAPSED", "Neither party paid: refunded to the client"
        ARBITRATOR_ASSIGNED = "ARBITRATOR_ASSIGNED", "An arbitrator took the case"
        EVIDENCE_REQUESTED = "EVIDENCE_REQUESTED", "More evidence requested"
        EVIDENCE_REQUEST_CLOSED = "EVIDENCE_REQUEST_CLOSED", "Evidence request closed"
        AWARD_ISSUED = "AWARD_ISSUED", "Final award issued"
        DEADLINE_EXTENDED = "DEADLINE_EXTENDED", "Deadline extended"
        MESSAGE_POSTED = "MESSAGE_POSTED", "Message"
        OFFER_MADE = "OFFER_MADE", "Settlement offer made"
        OFFER_ACCEPTED = "OFFER_ACCEPTED", "Settlement offer accepted"
        OFFER_DECLINED = "OFFER_DECLINED", "Settlement offer declined"
        OFFER_WITHDRAWN = "OFFER_WITHDRAWN", "Settlement offer withdrawn"
        OFFER_LAPSED = "OFFER_LAPSED", "Settlement offer lapsed"
        SETTLED = "SETTLED", "Settled by the parties: money moved as offered"

    refund_request = models.ForeignKey(
        RefundRequest, on_delete=models.PROTECT, related_name="timeline"
    )
    dispute = models.ForeignKey(
        Dispute, on_delete=models.PROTECT, null=True, blank=True, related_name="timeline"
    )
    kind = models.CharField(max_length=40)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted (a deadline passed).",
    )
    at = models.DateTimeField()
    amounts = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)
    # The deadline that applies after this event, if any.
    deadline_kind = models.CharField(max_length=40, blank=True)
    deadline_party = models.CharField(max_length=16, blank=True)
    deadline_due_at = models.DateTimeField(null=True, blank=True)
    evidence = models.ForeignKey(
        Evidence, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Internal events (agents' notes) are shown to staff only.
    internal = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["refund_request", "at"], name="timeline_request_idx"),
            models.Index(fields=["dispute", "at"], name="timeline_dispute_idx"),
        ]

    def __str__(self) -> str:
        return f"Event #{self.pk} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Timeline events are written once and never changed.")
        super().save(*args, **kwargs)


class DisputeMessage(models.Model):
    """One message of a dispute's thread between the parties and its staff member.

    Text only: files reach a dispute through the evidence rules alone. Written once, never
    changed; who may write and when is the dispute's action ``message``.
    """

    class Role(models.TextChoices):
        FREELANCER = "freelancer", "Freelancer"
        CLIENT = "client", "Client"
        AGENT = "agent", "Mediation agent"
        ARBITRATOR = "arbitrator", "Arbitrator"

    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    role = models.CharField(max_length=16, choices=Role.choices)
    text = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(text=""), name="dispute_message_has_text"),
        ]
        indexes = [models.Index(fields=["dispute", "created_at"], name="dispute_message_idx")]

    def __str__(self) -> str:
        return f"Message #{self.pk} on dispute #{self.dispute_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Messages are written once and never changed.")
        super().save(*args, **kwargs)


class SupportCase(models.Model):
    """A freelancer's request for help on an active contract the client will not settle."""

    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        CLOSED = "CLOSED", "Closed"

    milestone = models.ForeignKey(
        "contracts.Milestone", on_delete=models.PROTECT, related_name="support_cases"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="support_cases"
    )
    description = models.TextField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    staff_note = models.TextField(blank=True)
    created_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)

    lifecycle = Lifecycle(
        name="support case",
        statuses=Status,
        contract="milestone.contract",
        initial=[Status.OPEN],
        actions=[
            Action(
                "close",
                sources=[Status.OPEN],
                target=Status.CLOSED,
                actors=[Actor.SUPPORT],
                refuse_state=lambda case: Conflict("This support case is already closed."),
            ),
        ],
    )

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="support_status_idx")]

    def __str__(self) -> str:
        return f"Support case #{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("disputes:support-case", kwargs={"pk": self.pk})


class Macro(models.Model):
    """A reusable text staff insert into a case page's form, with placeholders for the case.

    Support maintains them in the admin; ``disputes.macros`` fills the placeholders for one
    dispute. The text lands in the form's field and stays editable before it is sent.
    """

    class Kind(models.TextChoices):
        RATIONALE = "RATIONALE", "Resolution rationale"
        NOTE = "NOTE", "Internal note"
        EVIDENCE_REQUEST = "EVIDENCE_REQUEST", "Evidence request"
        MESSAGE = "MESSAGE", "Message to the parties"

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=24, choices=Kind.choices)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "name"], name="macro_unique_name_per_kind"),
            models.CheckConstraint(condition=~Q(text=""), name="macro_has_text"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.name}"
