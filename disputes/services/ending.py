"""Ending a contract: the client pays what they choose and asks for the rest back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings

from accounts.models import User
from accounts.services import Message, notifications_send
from contracts import services as contract_services
from contracts.models import Contract
from core import deadlines
from core.actions import Event, record_created, service
from core.money import money

from ..models import RefundRequest, TimelineEvent
from . import timeline

Kind = TimelineEvent.Kind


@service
def contract_end(
    *, contract: Contract, actor: User, payments: Mapping[int, object], now: datetime
) -> list[RefundRequest]:
    """End the contract, pay what the client chose, and open a refund request for the rest.

    Each milestone's payment P is released at once; for each milestone with money left
    (R = E − P > 0) a refund request opens, and the freelancer has
    REFUND_REQUEST_RESPONSE_PERIOD to accept it or file a dispute. Submitted work whose
    auto-release fell due is released to the freelancer instead (``contracts.services``).
    """
    held = contract_services.contract_end(
        contract=contract, actor=actor, payments=payments, now=now
    )
    due_at = now + settings.REFUND_REQUEST_RESPONSE_PERIOD
    armed = deadlines.kind("refund_request_response", RefundRequest).arm(due_at=due_at, now=now)
    requests = RefundRequest.objects.bulk_create(
        RefundRequest(
            milestone=h.milestone,
            contract=contract,
            currency=contract.currency,
            escrowed=h.escrowed,
            paid=h.paid,
            amount=h.remaining,
            created_at=now,
            **armed,
        )
        for h in held
    )
    timeline.write(
        [
            (
                r,
                Event(
                    Kind.REFUND_REQUESTED,
                    note=(
                        f"{actor} ended the contract and asked for "
                        f"{money(r.amount, r.currency)} back."
                    ),
                    amounts=timeline.amounts(
                        r.currency, escrowed=r.escrowed, paid=r.paid, refund_requested=r.amount
                    ),
                    deadline=("refund_request_response", "freelancer", due_at),
                ),
            )
            for r in requests
        ],
        actor=actor,
        now=now,
    )
    record_created(RefundRequest.lifecycle, requests, now=now)
    notifications_send(
        messages=[
            Message(
                user_id=contract.freelancer_id,
                kind="refund_requested",
                title=f"Refund request on “{contract.title}”",
                body=(
                    f"{actor} ended the contract, paid {money(r.paid, r.currency)} of "
                    f"“{r.milestone.title}” and asks for {money(r.amount, r.currency)} back. "
                    f"Accept the refund or file a dispute by {deadlines.when(due_at)}; if you do "
                    f"nothing, the money is refunded to the client."
                ),
                url=r.get_absolute_url(),
            )
            for r in requests
        ],
        now=now,
    )
    return requests
