"""Refunding: the freelancer accepts a refund request, or stays silent until its deadline.

The work the action and its deadline share is one batch function,
:func:`refund_requests_refund`, so a sweep refunds hundreds of requests per transaction through
exactly the code a single click runs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from accounts.models import User
from accounts.services import Message
from contracts import services as contract_services
from core.actions import Event, perform, service
from core.links import url_maker
from core.money import money

from ..models import Dispute, RefundRequest, TimelineEvent
from . import timeline
from .locks import lock_refund_request

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


def refund_requests_refund(
    *, refund_requests: list[RefundRequest], actor: User | None, now: datetime
) -> None:
    """Refund each locked OPEN refund request's amount to its client.

    ``actor`` is the freelancer accepting (checked by the caller), or None when the deadline
    passed. A draft dispute of the request lapses with it.
    """
    if not refund_requests:
        return
    ids = [r.pk for r in refund_requests]
    drafts = list(
        Dispute.objects.select_for_update(of=("self",))
        .filter(refund_request_id__any=ids, status=DStatus.DRAFT)
        .order_by("pk")
    )
    for r in refund_requests:
        RefundRequest.lifecycle.ensure_state("accept" if actor else "expire", r)
    milestones = contract_services.milestones_settle(
        settlements=[
            contract_services.Settlement(
                milestone_id=r.milestone_id, to_freelancer=Decimal(0), to_client=r.amount
            )
            for r in refund_requests
        ],
        actor=actor,
        now=now,
    )

    messages = []
    url_of = url_maker("disputes:refund-request")
    for r in refund_requests:
        contract = milestones[r.milestone_id]
        title = f"{money(r.amount, r.currency)} refunded on “{contract.contract_title}”"
        url = url_of(r.pk)
        if actor:
            body = f"{actor} accepted the refund request."
        else:
            body = "The freelancer did not answer the refund request in time."
        messages.append(
            Message(user_id=contract.client_id, kind="refunded", title=title, body=body, url=url)
        )
        if actor is None:
            messages.append(
                Message(
                    user_id=contract.freelancer_id,
                    kind="refunded",
                    title=title,
                    body="You did not accept or dispute the refund request in time, so the "
                    "money went back to the client.",
                    url=url,
                )
            )
    perform(
        RefundRequest.lifecycle,
        "accept" if actor else "expire",
        refund_requests,
        user=actor,
        now=now,
        checked=True,
        values={"closed_at": now},
        event=lambda r: Event(
            Kind.REFUND_ACCEPTED if actor else Kind.REFUND_EXPIRED,
            note=(
                f"{money(r.amount, r.currency)} refunded to the client."
                if actor
                else f"No answer by the deadline: {money(r.amount, r.currency)} refunded to "
                "the client."
            ),
            amounts=timeline.amounts(r.currency, refunded=r.amount),
        ),
        notify=messages,
    )
    perform(
        Dispute.lifecycle,
        "lapse",
        drafts,
        now=now,
        values={"closed_at": now},
        event=Event(
            Kind.DRAFT_LAPSED,
            note="The draft dispute was not submitted before the refund request closed.",
        ),
    )


@service
def refund_request_accept(
    *, refund_request: RefundRequest, actor: User, now: datetime
) -> RefundRequest:
    """The freelancer agrees: the requested amount goes back to the client."""
    request = lock_refund_request(refund_request.pk)
    RefundRequest.lifecycle.check("accept", request, user=actor, now=now)
    refund_requests_refund(refund_requests=[request], actor=actor, now=now)
    return request


def refund_requests_expire(rows: list[RefundRequest], *, now: datetime) -> None:
    """The refund request's deadline: refund the client where the freelancer stayed silent."""
    refund_requests_refund(refund_requests=rows, actor=None, now=now)
