"""Row locks of refund requests and disputes.

Locks are always taken in the same order: refund request, then dispute, then milestone, then
ledger accounts. A person's action locks and waits; a deadline sweep claims with SKIP LOCKED.
"""

from __future__ import annotations

from ..models import Dispute, RefundRequest


def lock_refund_request(pk: int) -> RefundRequest:
    return (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("contract", "milestone")
        .get(pk=pk)
    )


def lock_dispute(*, dispute_id: int) -> Dispute:
    """Lock one dispute row for the rest of the transaction (its request loaded, not locked)."""
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("refund_request__contract", "milestone")
        .get(pk=dispute_id)
    )


def lock_dispute_with_request(dispute_id: int, refund_request_id: int) -> Dispute:
    """Lock a dispute and its refund request, in the global order (request first)."""
    request = lock_refund_request(refund_request_id)
    dispute = lock_dispute(dispute_id=dispute_id)
    dispute.refund_request = request
    return dispute
