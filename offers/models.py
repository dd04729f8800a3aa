"""Settlement offers: the parties settle a dispute between themselves, at any stage.

From the dispute's submission until it closes (an award closes it too), either party may offer
the other an exact split of the disputed escrow R, with a message. The other party accepts (the
money moves as offered at once and the dispute closes as ``SETTLED``), declines, or answers with
an offer of its own; the maker may withdraw it. Each party has at most one open offer: a new one
withdraws the maker's previous one, and leaves the other party's open. An open offer lapses after
OFFER_RESPONSE_PERIOD (its ``response_due_at``, a declared deadline swept like the others), and
whenever its dispute closes another way: the dispute's table declares that (``on_entering``
below), so no closing path has to remember it.

The dispute's own table gets the two actions offers take on it: ``offer`` (from submission until
it closes) and ``settle`` (an accepted offer closes it). What a settlement owes the later stages
(the fees paid for arbitration, an open case, a proposed resolution) those apps register in
``offers.services.SETTLING``, as they register their evidence rules with the disputes app.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from contracts.models import AMOUNT
from core.actions import PARTIES, Action, Actor, Lifecycle
from core.errors import Conflict, IllegalTransition, NotAllowed, NotAParty
from disputes.models import Dispute

DStatus = Dispute.Status

# Offers can be made and accepted from submission until the dispute closes.
SETTLEABLE = frozenset(
    {
        DStatus.AWAITING_CLIENT,
        DStatus.IN_MEDIATION,
        DStatus.RESOLUTION_PROPOSED,
        DStatus.ARBITRATION_WINDOW,
        DStatus.IN_ARBITRATION,
    }
)


class OwnOffer(NotAllowed):
    code = "own_offer"
    default_message = "This is your own offer: only the other party can accept or decline it."


class NotYourOffer(NotAllowed):
    code = "not_your_offer"
    default_message = "Only the party who made this offer can withdraw it."


def _not_settleable(dispute) -> Conflict:
    if dispute.status == DStatus.DRAFT:
        message = "A settlement can be offered once the dispute is submitted."
    else:
        message = (
            f"This dispute is {dispute.get_status_display().lower()}: settlement offers are "
            "possible only from its submission until it closes."
        )
    return IllegalTransition(
        model="dispute", current=dispute.status, target=DStatus.CLOSED, message=message
    )


Dispute.lifecycle.declare(
    Action(
        "offer",
        sources=SETTLEABLE,
        target=None,
        actors=PARTIES,
        refuse_state=_not_settleable,
        refuse_actor=lambda: NotAParty("Only the parties to the contract make settlement offers."),
    ),
    Action(
        "settle",
        sources=SETTLEABLE,
        target=DStatus.CLOSED,
        actors=PARTIES,
        refuse_state=_not_settleable,
        refuse_actor=lambda: NotAParty("Only the parties to the contract settle a dispute."),
    ),
)
# However a dispute closes (an accepted offer, the client's answer or silence, a resolution, the
# arbitration window, an award), its open offers lapse with it.
Dispute.lifecycle.on_entering(DStatus.CLOSED, "offers.services.offers_lapse_with_disputes")


def _answerable(offer, *, actor, **_) -> NotAllowed | None:
    return OwnOffer() if offer.by == actor else None


def _mine(offer, *, actor, **_) -> NotAllowed | None:
    return None if offer.by == actor else NotYourOffer()


def _not_open(offer) -> Conflict:
    return IllegalTransition(
        model="offer",
        current=offer.status,
        target=offer.status,
        message=f"This offer is {offer.get_status_display().lower()}: it can no longer be "
        "answered or withdrawn.",
    )


class Offer(models.Model):
    class Status(models.TextChoices):
        OPEN = "OPEN", "Open"
        ACCEPTED = "ACCEPTED", "Accepted"
        DECLINED = "DECLINED", "Declined"
        WITHDRAWN = "WITHDRAWN", "Withdrawn"
        LAPSED = "LAPSED", "Lapsed"

    class Party(models.TextChoices):
        FREELANCER = "freelancer", "Freelancer"
        CLIENT = "client", "Client"

    # Made OPEN; the other party accepts or declines it, the maker withdraws it (or replaces
    # it with a new one) before it lapses; the deadline, or the dispute closing, lapses it.
    lifecycle = Lifecycle(
        name="offer",
        statuses=Status,
        contract="dispute.refund_request.contract",
        initial=[Status.OPEN],
        timeline="offers.timeline.write",
        created="offer.made",
        actions=[
            Action(
                "accept",
                sources=[Status.OPEN],
                target=Status.ACCEPTED,
                actors=PARTIES,
                before="offer_response",
                guard=_answerable,
                refuse_state=_not_open,
                refuse_actor=lambda: NotAParty("Only the other party can accept this offer."),
                late="This offer lapsed {when}.",
                emits="offer.accepted",
            ),
            Action(
                "decline",
                sources=[Status.OPEN],
                target=Status.DECLINED,
                actors=PARTIES,
                before="offer_response",
                guard=_answerable,
                refuse_state=_not_open,
                refuse_actor=lambda: NotAParty("Only the other party can decline this offer."),
                late="This offer lapsed {when}.",
                emits="offer.declined",
            ),
            Action(
                "withdraw",
                sources=[Status.OPEN],
                target=Status.WITHDRAWN,
                actors=PARTIES,
                before="offer_response",
                guard=_mine,
                refuse_state=_not_open,
                refuse_actor=lambda: NotAParty(
                    "Only the party who made this offer can withdraw it."
                ),
                late="This offer lapsed {when}.",
                emits="offer.withdrawn",
            ),
            Action(
                "lapse",
                sources=[Status.OPEN],
                target=Status.LAPSED,
                actors=[Actor.SYSTEM],
                after="offer_response",
                emits="offer.lapsed",
            ),
            Action(
                "lapse_with_dispute",
                sources=[Status.OPEN],
                target=Status.LAPSED,
                actors=[Actor.SYSTEM],
                emits="offer.lapsed",
            ),
        ],
    )

    dispute = models.ForeignKey("disputes.Dispute", on_delete=models.PROTECT, related_name="offers")
    by = models.CharField(max_length=16, choices=Party.choices)
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(max_length=3)
    to_freelancer = models.DecimalField(**AMOUNT)
    to_client = models.DecimalField(**AMOUNT)
    message = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField()
    # Shown as ``expires_at``: the other party answers before it, or the offer lapses.
    response_due_at = models.DateTimeField()
    reminded_48h_at = models.DateTimeField(null=True, blank=True)
    reminded_24h_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Who accepted, declined or withdrew it; empty when it lapsed.",
    )
    reason = models.TextField(
        blank=True, help_text="The reason given with a decline or withdrawal."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["dispute", "by"],
                condition=Q(status="OPEN"),
                name="offer_one_open_per_party",
            ),
            models.CheckConstraint(
                condition=Q(to_freelancer__gte=0, to_client__gte=0),
                name="offer_shares_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(by__in=["freelancer", "client"]), name="offer_by_a_party"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "response_due_at"], name="offer_due_idx"),
            models.Index(fields=["dispute", "created_at"], name="offer_dispute_idx"),
        ]

    def __str__(self) -> str:
        return f"Offer #{self.pk} by the {self.by} on dispute #{self.dispute_id}"

    @property
    def other(self) -> str:
        return "client" if self.by == "freelancer" else "freelancer"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN
