"""Refunding: the freelancer accepts a refund request, or stays silent until its deadline.

The work the action and its deadline share is one batch function,
:func:`refund_requests_refund`, so a sweep refunds hundreds of requests per transaction through
exactly the code a single click runs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db import transaction

from accounts.models import User
from accounts.services import Message, notifications_send
from contracts import services as contract_services
from core import deadlines
from core.links import url_maker
from core.money import money

from ..models import Dispute, RefundRequest, TimelineEvent
from .errors import _ensure_before, _ensure_party, _transition
from .locks import _lock_refund_request
from .timeline import _amounts, _event, _timeline_insert

RRStatus = RefundRequest.Status
DStatus = Dispute.Status
Kind = TimelineEvent.Kind


def refund_requests_refund(
    *, refund_requests: list[RefundRequest], actor: User | None, now: datetime
) -> None:
    """Refund each locked OPEN refund request's amount to its client.

    ``actor`` is the freelancer accepting, or None when the deadline passed. A draft dispute of
    the request lapses with it.
    """
    if not refund_requests:
        return
    target = RRStatus.ACCEPTED if actor else RRStatus.EXPIRED
    for r in refund_requests:
        _transition(RefundRequest.TRANSITIONS, r, target, "refund request")
    ids = [r.pk for r in refund_requests]
    drafts = list(
        Dispute.objects.select_for_update(of=("self",))
        .filter(refund_request_id__any=ids, status=DStatus.DRAFT)
        .order_by("pk")
    )
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
    RefundRequest.objects.filter(pk__any=ids).update(status=target, closed_at=now)
    Dispute.objects.filter(pk__any=[d.pk for d in drafts]).update(
        status=DStatus.LAPSED, closed_at=now
    )
    for r in refund_requests:
        r.status, r.closed_at = target, now

    kind = Kind.REFUND_ACCEPTED if actor else Kind.REFUND_EXPIRED
    events = [
        _event(
            refund_request_id=r.pk,
            kind=kind,
            actor_id=actor.pk if actor else None,
            at=now,
            amounts=_amounts(r.currency, refunded=r.amount),
            note=(
                f"{money(r.amount, r.currency)} refunded to the client."
                if actor
                else f"No answer by the deadline: {money(r.amount, r.currency)} refunded to "
                "the client."
            ),
        )
        for r in refund_requests
    ]
    events += [
        _event(
            refund_request_id=d.refund_request_id,
            dispute_id=d.pk,
            kind=Kind.DRAFT_LAPSED,
            at=now,
            note="The draft dispute was not submitted before the refund request closed.",
        )
        for d in drafts
    ]
    _timeline_insert(events)

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
    notifications_send(messages=messages, now=now)


@transaction.atomic
def refund_request_accept(
    *, refund_request: RefundRequest, actor: User, now: datetime
) -> RefundRequest:
    """The freelancer agrees: the requested amount goes back to the client."""
    request = _lock_refund_request(refund_request.pk)
    _ensure_party(contract=request.contract, actor=actor, party="freelancer")
    _transition(RefundRequest.TRANSITIONS, request, RRStatus.ACCEPTED, "refund request")
    _ensure_before(request.response_due_at, now, "answer this refund request")
    refund_requests_refund(refund_requests=[request], actor=actor, now=now)
    return request


@deadlines.register("disputes.refund_requests_expire")
def refund_requests_expire(*, now: datetime, batch_size: int) -> int:
    """Refund the client where the freelancer neither accepted nor disputed in time."""
    with transaction.atomic():
        due = deadlines.claim(
            # Only what refunding reads: a sweep builds a thousand of these per batch.
            RefundRequest.objects.filter(status=RRStatus.OPEN).only(
                "status", "milestone_id", "amount", "currency", "response_due_at"
            ),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        refund_requests_refund(refund_requests=due, actor=None, now=now)
    return len(due)
