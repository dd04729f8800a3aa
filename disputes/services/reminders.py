"""Reminders before the parties' deadlines on refund requests and disputes.

``REMINDERS`` names each reminder sweep; the package registers them on import, after the
expiry sweeps.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from accounts.services import Message, notifications_send
from core import deadlines
from core.money import money

from ..models import Dispute, RefundRequest

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


REMINDERS = {
    "disputes.refund_request_reminders": deadlines.Reminder(
        queryset=lambda: RefundRequest.objects.filter(status=RRStatus.OPEN).select_related(
            "contract"
        ),
        due_field="response_due_at",
        fields=REMINDER_FIELDS,
        send=_remind_refund_requests,
    ),
    "disputes.client_answer_reminders": deadlines.Reminder(
        queryset=lambda: Dispute.objects.filter(status=DStatus.AWAITING_CLIENT).select_related(
            "refund_request__contract"
        ),
        due_field="response_due_at",
        fields=REMINDER_FIELDS,
        send=_remind_clients,
    ),
}
