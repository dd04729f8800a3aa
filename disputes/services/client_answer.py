"""The client's answer to a submitted dispute: accept, decline, or stay silent past the deadline."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from accounts.models import User
from accounts.services import Message
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput

from ..models import Dispute, RefundRequest, TimelineEvent
from . import timeline
from .closing import Closing, disputes_close
from .locks import lock_dispute

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


def disputes_settle_on_client_answer(
    *, disputes: list[Dispute], actor: User | None, now: datetime
) -> None:
    """Pay D to the freelancer and refund R − D for each locked dispute awaiting the client.

    ``actor`` is the client accepting (checked by the caller), or None when the client's
    deadline passed.
    """
    requests = RefundRequest.objects.in_bulk([d.refund_request_id for d in disputes])
    for d in disputes:
        d.refund_request = requests[d.refund_request_id]
    disputes_close(
        closings=[
            Closing(
                dispute=d,
                to_freelancer=d.amount,
                to_client=requests[d.refund_request_id].amount - d.amount,
            )
            for d in disputes
        ],
        action="accept" if actor else "client_silent",
        outcome=Dispute.Outcome.CLIENT_ACCEPTED if actor else Dispute.Outcome.CLIENT_SILENT,
        event_kind=Kind.DISPUTE_ACCEPTED if actor else Kind.CLIENT_SILENT,
        actor=actor,
        why=(
            "The client accepted the dispute."
            if actor
            else "The client did not answer the dispute in time."
        ),
        now=now,
    )


@service
def dispute_accept(*, dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """The client agrees: the disputed amount goes to the freelancer, the rest back."""
    dispute = lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check("accept", dispute, user=actor, now=now)
    disputes_settle_on_client_answer(disputes=[dispute], actor=actor, now=now)
    return dispute


@service
def dispute_decline(*, dispute: Dispute, actor: User, reason: str, now: datetime) -> Dispute:
    """The client says no: the dispute goes to a mediation agent; the money stays in escrow."""
    dispute = lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check("decline", dispute, user=actor, now=now)
    text = (reason or "").strip()
    if not text:
        message = "Tell the mediation agent why you decline."
        raise InvalidInput(message, fields={"reason": [message]})
    if len(text) > 10_000:
        message = "The reason may be at most 10000 characters."
        raise InvalidInput(message, fields={"reason": [message]})
    request = dispute.refund_request
    contract = request.contract
    service_level_at = now + settings.MEDIATION_SERVICE_LEVEL
    perform(
        Dispute.lifecycle,
        "decline",
        dispute,
        user=actor,
        now=now,
        checked=True,
        values={"declined_at": now, "decline_reason": text},
        event=Event(
            Kind.DISPUTE_DECLINED,
            note=text,
            amounts=timeline.amounts(request.currency, disputed=dispute.amount),
            deadline=("mediation_service_level", "agent", service_level_at),
        ),
        notify=[
            Message(
                user_id=user_id,
                kind="dispute_in_mediation",
                title=f"Dispute on “{contract.title}” goes to mediation",
                body=(
                    "The client declined the dispute. A mediation agent will review both sides "
                    "and propose a resolution, typically by "
                    f"{deadlines.when(service_level_at)}. The money stays in escrow meanwhile."
                ),
                url=dispute.get_absolute_url(),
            )
            for user_id in (contract.freelancer_id, contract.client_id)
        ],
    )
    return dispute


def disputes_expire_client_answer(rows: list[Dispute], *, now: datetime) -> None:
    """The client's deadline: release the disputed amount where the client stayed silent."""
    disputes_settle_on_client_answer(disputes=rows, actor=None, now=now)
