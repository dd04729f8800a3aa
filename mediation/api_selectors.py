"""What the REST API reads of mediation: the latest resolution of each dispute on a page.

Who may read a dispute is decided by ``disputes.selectors``; this module only reads on for
disputes the caller already holds. One query for a whole page, none when no dispute on it has got
as far as a proposal.
"""

from __future__ import annotations

from collections.abc import Sequence

from disputes.models import Dispute

from .models import Resolution

DStatus = Dispute.Status

# No agent has proposed anything yet in these stages.
BEFORE_A_PROPOSAL = frozenset(
    {DStatus.DRAFT, DStatus.AWAITING_CLIENT, DStatus.IN_MEDIATION, DStatus.LAPSED}
)


def resolutions_latest(*, disputes: Sequence[Dispute]) -> dict[int, Resolution]:
    """Return the latest resolution of each dispute that has one, by dispute id."""
    ids = [dispute.pk for dispute in disputes if dispute.status not in BEFORE_A_PROPOSAL]
    if not ids:
        return {}
    latest: dict[int, Resolution] = {}
    for resolution in Resolution.objects.filter(dispute_id__in=ids).order_by(
        "dispute_id", "proposed_at", "pk"
    ):
        latest[resolution.dispute_id] = resolution
    return latest
