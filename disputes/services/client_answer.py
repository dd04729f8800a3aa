"""The client's answer to a submitted dispute: accept, decline, or stay silent past the deadline."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import Message, notifications_send
from core import deadlines
from core.errors import IllegalTransition, InvalidInput

from ..models import Dispute, RefundRequest, TimelineEvent
from .closing import Closing, disputes_close
from .errors import _ensure_before, _ensure_party, _transition
from .locks import _lock_dispute
from .timeline import _amounts

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


def disputes_settle_on_client_answer(
    *, disputes: list[Dispute], actor: User | None, now: datetime
) -> None:
    """Pay D to the freelancer and refund R − D for each locked dispute awaiting the client.

    ``actor`` is the client accepting, or None when the client's deadline passed.
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


@transaction.atomic
def dispute_accept(*, dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """The client agrees: the disputed amount goes to the freelancer, the rest back."""
    dispute = _lock_dispute(dispute.pk)
    _ensure_party(contract=dispute.refund_request.contract, actor=actor, party="client")
    if dispute.status != DStatus.AWAITING_CLIENT:
        raise IllegalTransition(
            model="dispute",
            current=dispute.status,
            target=DStatus.CLOSED,
            message=f"This dispute is {dispute.get_status_display().lower()}: only a dispute "
            "waiting for the client's answer can be accepted.",
        )
    _ensure_before(dispute.response_due_at, now, "answer this dispute")
    disputes_settle_on_client_answer(disputes=[dispute], actor=actor, now=now)
    return dispute


@transaction.atomic
def dispute_decline(*, dispute: Dispute, actor: User, reason: str, now: datetime) -> Dispute:
    """The client says no: the dispute goes to a mediation agent; the money stays in escrow."""
    dispute = _lock_dispute(dispute.pk)
    request = dispute.refund_request
    _ensure_party(contract=request.contract, actor=actor, party="client")
    _transition(Dispute.TRANSITIONS, dispute, DStatus.IN_MEDIATION, "dispute")
    _ensure_before(dispute.response_due_at, now, "answer this dispute")
    text = (reason or "").strip()
    if not text:
        message = "Tell the mediation agent why you decline."
        raise InvalidInput(message, fields={"reason": [message]})
    if len(text) > 10_000:
        message = "The reason may be at most 10000 characters."
        raise InvalidInput(message, fields={"reason": [message]})
    dispute.status = DStatus.IN_MEDIATION
    dispute.declined_at = now
    dispute.decline_reason = text
    dispute.save(update_fields=["status", "declined_at", "decline_reason"])
    service_level_at = now + settings.MEDIATION_SERVICE_LEVEL
    TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=Kind.DISPUTE_DECLINED,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, disputed=dispute.amount),
        note=text,
        deadline_kind="mediation_service_level",
        deadline_party="agent",
        deadline_due_at=service_level_at,
    )
    contract = request.contract
    notifications_send(
        messages=[
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
        now=now,
    )
    return dispute


@deadlines.register("disputes.client_answers_expire")
def disputes_expire_client_answer(*, now: datetime, batch_size: int) -> int:
    """Release the disputed amount where the client neither accepted nor declined in time."""
    with transaction.atomic():
        due = deadlines.claim(
            Dispute.objects.filter(status=DStatus.AWAITING_CLIENT),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        disputes_settle_on_client_answer(disputes=due, actor=None, now=now)
    return len(due)
