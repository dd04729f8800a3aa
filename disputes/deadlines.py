"""The deadlines of refund requests and of the client's answer to a dispute.

Declared once each (``core.deadlines``); the sweeps, their reminders, the deadline cards, the
API's ``deadline``, late actions and extensions all derive from these declarations.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from accounts.services import Message, notifications_send
from core import deadlines
from core.money import money

from .models import Dispute, RefundRequest
from .services.client_answer import disputes_expire_client_answer
from .services.refund_requests import refund_requests_expire

RRStatus = RefundRequest.Status
DStatus = Dispute.Status

# Refund requests and disputes both keep their reminders in these columns.
REMINDER_FIELDS = {48: "reminded_48h_at", 24: "reminded_24h_at"}


def _remind_refund_requests(requests: Iterable[RefundRequest], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=r.contract.freelancer_id,
                kind="deadline_reminder",
                title=f"{hours} hours left to answer a refund request",
                body=(
                    f"Accept the refund of {money(r.amount, r.currency)} on "
                    f"“{r.contract.title}” or file a dispute by "
                    f"{deadlines.when(r.response_due_at)}. If you do nothing, the money is "
                    "refunded to the client."
                ),
                url=r.get_absolute_url(),
            )
            for r in requests
        ],
        now=now,
    )


def _remind_clients(disputes: Iterable[Dispute], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=d.refund_request.contract.client_id,
                kind="deadline_reminder",
                title=f"{hours} hours left to answer a dispute",
                body=(
                    f"Accept or decline the dispute on “{d.refund_request.contract.title}” by "
                    f"{deadlines.when(d.response_due_at)}. If you do nothing, "
                    f"{money(d.amount, d.refund_request.currency)} is released to the "
                    "freelancer."
                ),
                url=d.get_absolute_url(),
            )
            for d in disputes
        ],
        now=now,
    )


REFUND_REQUEST_RESPONSE = deadlines.DeadlineKind(
    name="refund_request_response",
    model="disputes.RefundRequest",
    statuses={RRStatus.OPEN},
    label="The freelancer's time to accept the refund or file a dispute",
    party="freelancer",
    due="response_due_at",
    starts="created_at",
    apply=refund_requests_expire,
    # Only what refunding reads: a sweep builds a thousand of these per batch.
    load=lambda rows: rows.only("status", "milestone_id", "amount", "currency", "response_due_at"),
    reminders=REMINDER_FIELDS,
    remind=_remind_refund_requests,
    remind_load=lambda rows: rows.select_related("contract"),
    sweep="disputes.refund_requests_expire",
    reminder_sweep="disputes.refund_request_reminders",
    order=20,
    settled_text="The refund went back to the client automatically.",
)

# A draft dispute runs on its refund request's clock: only submitting stops it.
DRAFT_SUBMISSION = deadlines.DeadlineKind(
    name="refund_request_response",
    model="disputes.Dispute",
    statuses={DStatus.DRAFT},
    label="Submit the dispute before the refund request's deadline",
    party="freelancer",
    due="refund_request.response_due_at",
    starts="refund_request.created_at",
    extendable=False,
    order=20,
)

CLIENT_RESPONSE = deadlines.DeadlineKind(
    name="client_response",
    model="disputes.Dispute",
    statuses={DStatus.AWAITING_CLIENT},
    label="The client's time to accept or decline the dispute",
    party="client",
    due="response_due_at",
    starts="submitted_at",
    apply=disputes_expire_client_answer,
    reminders=REMINDER_FIELDS,
    remind=_remind_clients,
    remind_load=lambda rows: rows.select_related("refund_request__contract"),
    sweep="disputes.client_answers_expire",
    reminder_sweep="disputes.client_answer_reminders",
    order=30,
    settled_text="The disputed amount was released to the freelancer automatically.",
)

deadlines.declare(REFUND_REQUEST_RESPONSE, DRAFT_SUBMISSION, CLIENT_RESPONSE)
