"""What the REST API reads of arbitration: a dispute's window, fees, case, evidence requests, award.

Who may read a dispute is decided by ``disputes.selectors``; this module only reads on for
disputes the caller already holds. A page of disputes costs at most two queries, whatever its
length: one for the fees (which lead to the case, its award and the arbitrator), one for the open
evidence requests when a dispute on the page is in arbitration; none when no dispute on it has
reached the arbitration window.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import QuerySet

from accounts.models import User
from disputes.models import Dispute

from .models import ArbitrationCase, ArbitrationFee, Award, EvidenceRequest

DStatus = Dispute.Status

# A dispute has reached the arbitration window when it is in one of these stages, or closed with
# one of these outcomes (the window closed, or the award was issued).
WINDOW_AND_AFTER = frozenset({DStatus.ARBITRATION_WINDOW, DStatus.IN_ARBITRATION})
OUTCOMES_AFTER_WINDOW = frozenset(
    {
        Dispute.Outcome.NO_ARBITRATION,
        Dispute.Outcome.ONLY_FREELANCER_PAID,
        Dispute.Outcome.ONLY_CLIENT_PAID,
        Dispute.Outcome.AWARDED,
    }
)


@dataclass
class Arbitration:
    """A dispute's arbitration as the API shows it."""

    dispute: Dispute
    fees: dict[str, ArbitrationFee] = field(default_factory=dict)
    case: ArbitrationCase | None = None
    arbitrator: User | None = None
    award: Award | None = None
    open_evidence_requests: list[EvidenceRequest] = field(default_factory=list)


def reached_the_window(dispute: Dispute) -> bool:
    return dispute.status in WINDOW_AND_AFTER or (
        dispute.status == DStatus.CLOSED and dispute.outcome in OUTCOMES_AFTER_WINDOW
    )


def arbitrations_for(*, disputes: Sequence[Dispute]) -> dict[int, Arbitration]:
    """Return the arbitration of each dispute that reached the window, by dispute id."""
    found = {d.pk: Arbitration(dispute=d) for d in disputes if reached_the_window(d)}
    # Settled by an offer: its arbitration is shown when a party had paid a fee (refunded
    # before a case opened, kept in a case).
    settled = [
        d.pk
        for d in disputes
        if d.status == DStatus.CLOSED and d.outcome == Dispute.Outcome.SETTLED
    ]
    found.update({pk: Arbitration(dispute=d) for d in disputes if (pk := d.pk) in settled})
    if not found:
        return {}
    # A case opens only once both parties paid, so the fee rows lead to every case there is.
    fees = ArbitrationFee.objects.filter(dispute_id__in=found).select_related(
        "dispute__arbitration_case__award", "dispute__arbitrator"
    )
    for fee in fees.order_by("dispute_id", "pk"):
        arbitration = found[fee.dispute_id]
        arbitration.fees[fee.party] = fee
        case = getattr(fee.dispute, "arbitration_case", None)
        if case is not None:
            arbitration.case = case
            arbitration.arbitrator = fee.dispute.arbitrator
            arbitration.award = getattr(case, "award", None)
    for pk in settled:
        if not found[pk].fees:
            del found[pk]
    in_arbitration = [pk for pk, a in found.items() if a.dispute.status == DStatus.IN_ARBITRATION]
    if in_arbitration:
        requests = EvidenceRequest.objects.filter(
            case__dispute_id__in=in_arbitration, status=EvidenceRequest.Status.OPEN
        ).select_related("case")
        for request in requests.order_by("due_at", "pk"):
            found[request.case.dispute_id].open_evidence_requests.append(request)
    return found


def dispute_evidence_requests(*, dispute: Dispute) -> QuerySet[EvidenceRequest]:
    """Return every evidence request of the dispute's case, oldest first (none before a case)."""
    return EvidenceRequest.objects.filter(case__dispute=dispute).order_by("requested_at", "pk")
