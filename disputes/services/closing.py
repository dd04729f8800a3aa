"""Closing a dispute: every way a dispute ends pays out its escrow through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import Message, notifications_send
from contracts import services as contract_services
from core.errors import InvalidInput
from core.money import money

from ..models import Dispute, RefundRequest
from .errors import _transition
from .timeline import _amounts, _event, _timeline_insert

DStatus = Dispute.Status


@dataclass(frozen=True)
class Closing:
    """How one locked dispute ends: the whole refund request's amount R, split exactly."""

    dispute: Dispute
    to_freelancer: Decimal
    to_client: Decimal


def disputes_close(
    *,
    closings: list[Closing],
    outcome: str,
    event_kind: str,
    actor: User | None,
    why: str,
    now: datetime,
) -> None:
    """Close each locked open dispute and pay out its escrow as split; tell both parties.

    Every way a dispute ends goes through here: the client's answer or silence, an accepted
    resolution, a small-claims decision, the arbitration window's end, an award. ``why`` opens
    the notification (e.g. "The client accepted the dispute.").
    """
    if not closings:
        return
    disputes = [c.dispute for c in closings]
    for d in disputes:
        _transition(Dispute.TRANSITIONS, d, DStatus.CLOSED, "dispute")
    # The caller may have the requests loaded already (a lock does, so does the client's answer).
    requests = RefundRequest.objects.in_bulk(
        [d.refund_request_id for d in disputes if not Dispute.refund_request.is_cached(d)]
    )
    for c in closings:
        if not Dispute.refund_request.is_cached(c.dispute):
            c.dispute.refund_request = requests[c.dispute.refund_request_id]
        if c.to_freelancer + c.to_client != c.dispute.refund_request.amount:
            raise InvalidInput(
                "The split must add up to the amount in dispute, "
                f"{money(c.dispute.refund_request.amount, c.dispute.refund_request.currency)}.",
                code="split_mismatch",
            )
    milestones = contract_services.milestones_settle(
        settlements=[
            contract_services.Settlement(
                milestone_id=c.dispute.milestone_id,
                to_freelancer=c.to_freelancer,
                to_client=c.to_client,
            )
            for c in closings
        ],
        actor=actor,
        now=now,
    )
    for c in closings:
        d = c.dispute
        d.status, d.outcome, d.closed_at = DStatus.CLOSED, outcome, now
        d.to_freelancer, d.to_client = c.to_freelancer, c.to_client
    Dispute.objects.bulk_update(
        disputes, ["status", "outcome", "closed_at", "to_freelancer", "to_client"], batch_size=500
    )
    _timeline_insert(
        [
            _event(
                refund_request_id=d.refund_request_id,
                dispute_id=d.pk,
                kind=event_kind,
                actor_id=actor.pk if actor else None,
                at=now,
                amounts=_amounts(
                    d.refund_request.currency, to_freelancer=d.to_freelancer, to_client=d.to_client
                ),
                note=_split_text(d),
            )
            for d in disputes
        ]
    )
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind="dispute_closed",
                title=f"Dispute on “{milestones[d.milestone_id].contract_title}” closed",
                body=f"{why} {_split_text(d)}",
                url=d.get_absolute_url(),
            )
            for d in disputes
            for user_id in (
                milestones[d.milestone_id].freelancer_id,
                milestones[d.milestone_id].client_id,
            )
        ],
        now=now,
    )


def _split_text(d: Dispute) -> str:
    currency = d.refund_request.currency
    return (
        f"{money(d.to_freelancer, currency)} released to the freelancer, "
        f"{money(d.to_client, currency)} refunded to the client."
    )
