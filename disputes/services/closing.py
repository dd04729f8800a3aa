"""Closing a dispute: every way a dispute ends pays out its escrow through here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import Message
from contracts import services as contract_services
from core.actions import Event, perform
from core.errors import InvalidInput
from core.money import money

from ..models import Dispute, RefundRequest
from . import timeline

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
    action: str,
    outcome: str,
    event_kind: str,
    actor: User | None,
    why: str,
    now: datetime,
) -> None:
    """Close each locked open dispute by ``action`` and pay out its escrow as split.

    Every way a dispute ends goes through here: the client's answer or silence (``accept``,
    ``client_silent``), an accepted resolution, a small-claims decision, the arbitration
    window's end, an award. The caller checked the person (``actor``) for ``action``; None is
    the system. ``why`` opens the notification both parties get (e.g. "The client accepted the
    dispute.").
    """
    if not closings:
        return
    disputes = [c.dispute for c in closings]
    for d in disputes:
        Dispute.lifecycle.ensure_state(action, d)
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
    split = {c.dispute.pk: c for c in closings}
    perform(
        Dispute.lifecycle,
        action,
        disputes,
        user=actor,
        now=now,
        checked=True,
        values=lambda d: {
            "outcome": outcome,
            "closed_at": now,
            "to_freelancer": split[d.pk].to_freelancer,
            "to_client": split[d.pk].to_client,
        },
        event=lambda d: Event(
            event_kind,
            note=_split_text(d),
            amounts=timeline.amounts(
                d.refund_request.currency, to_freelancer=d.to_freelancer, to_client=d.to_client
            ),
        ),
        notify=[
            Message(
                user_id=user_id,
                kind="dispute_closed",
                title=f"Dispute on “{milestones[d.milestone_id].contract_title}” closed",
                body=f"{why} {_split_text(d, split[d.pk])}",
                url=d.get_absolute_url(),
            )
            for d in disputes
            for user_id in (
                milestones[d.milestone_id].freelancer_id,
                milestones[d.milestone_id].client_id,
            )
        ],
    )


def _split_text(d: Dispute, closing: Closing | None = None) -> str:
    currency = d.refund_request.currency
    to_freelancer = closing.to_freelancer if closing else d.to_freelancer
    to_client = closing.to_client if closing else d.to_client
    return (
        f"{money(to_freelancer, currency)} released to the freelancer, "
        f"{money(to_client, currency)} refunded to the client."
    )
