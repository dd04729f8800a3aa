"""Row locks of refund requests and disputes.

Locks are always taken in the same order: refund request, then dispute, then milestone, then
ledger accounts. A person's action locks and waits; a deadline sweep claims with SKIP LOCKED.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User

from ..models import Dispute, RefundRequest
from .errors import FilingLocked, _ensure_before, _ensure_party

DStatus = Dispute.Status


def _lock_refund_request(pk: int) -> RefundRequest:
    return (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("contract", "milestone")
        .get(pk=pk)
    )


def lock_dispute(*, dispute_id: int) -> Dispute:
    """Lock one dispute row for the rest of the transaction (its request loaded, not locked)."""
    return _lock_dispute(dispute_id)


def _lock_dispute(pk: int) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("refund_request__contract", "milestone")
        .get(pk=pk)
    )


def _lock_draft(dispute: Dispute, actor: User, now: datetime) -> Dispute:
    request = _lock_refund_request(dispute.refund_request_id)
    dispute = _lock_dispute(dispute.pk)
    _ensure_party(contract=request.contract, actor=actor, party="freelancer")
    if dispute.status == DStatus.LAPSED:
        raise FilingLocked(
            "This draft was not submitted before the refund request's deadline; it can no "
            "longer be changed or submitted.",
            code="draft_lapsed",
        )
    if dispute.status != DStatus.DRAFT:
        raise FilingLocked()
    _ensure_before(request.response_due_at, now, "submit this dispute")
    dispute.refund_request = request
    return dispute
