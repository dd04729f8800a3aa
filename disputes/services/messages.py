"""The message thread of a dispute: the parties and the staff member assigned to the case.

Who may write and when is the dispute's action ``message`` (``disputes.models``): the parties and
the assigned mediation agent, then the arbitrator, from the client's decline until the dispute
closes. A message is text only, so a file still reaches the case through the evidence rules
alone. Each message goes on the timeline (without its text: the thread is for the people in it)
and is notified to the others in the thread.
"""

from __future__ import annotations

from datetime import datetime

from accounts.models import User
from accounts.services import Message
from core.actions import Event, perform, service
from core.api_defaults import UNSTORABLE_TEXT, is_storable
from core.errors import InvalidInput

from ..models import Dispute, DisputeMessage, TimelineEvent
from .locks import lock_dispute

MAX_LENGTH = 10_000

ROLE_NAMES = {
    "freelancer": "the freelancer",
    "client": "the client",
    "agent": "the mediation agent",
    "arbitrator": "the arbitrator",
}


def _clean(text: str) -> str:
    body = (text or "").strip()
    if not body:
        message = "Write the message first."
        raise InvalidInput(message, fields={"text": [message]})
    if not is_storable(body):
        fields = {"text": [UNSTORABLE_TEXT]}
        raise InvalidInput(UNSTORABLE_TEXT, code="unstorable_text", fields=fields)
    if len(body) > MAX_LENGTH:
        message = f"A message may be at most {MAX_LENGTH} characters."
        raise InvalidInput(message, fields={"text": [message]})
    return body


@service
def dispute_message_post(
    *, dispute: Dispute, author: User, text: str, now: datetime
) -> DisputeMessage:
    """Write ``text`` to the dispute's thread; the others in it are notified."""
    dispute = lock_dispute(dispute_id=dispute.pk)
    actor = Dispute.lifecycle.check("message", dispute, user=author, now=now)
    body = _clean(text)
    message = DisputeMessage.objects.create(
        dispute=dispute, author=author, role=actor.value, text=body, created_at=now
    )
    contract = dispute.refund_request.contract
    others = [contract.freelancer_id, contract.client_id, dispute.thread_staff_id]
    who = f"{author} ({ROLE_NAMES[actor.value]})"
    perform(
        Dispute.lifecycle,
        "message",
        dispute,
        user=author,
        now=now,
        checked=True,
        event=Event(TimelineEvent.Kind.MESSAGE_POSTED, note=f"{who} wrote a message."),
        notify=[
            Message(
                user_id=user_id,
                kind="dispute_message",
                title=f"New message on the dispute about “{contract.title}”",
                body=f"{who} wrote: {body[:500]}",
                url=f"{dispute.get_absolute_url()}#messages",
            )
            for user_id in dict.fromkeys(others)
            if user_id is not None and user_id != author.pk
        ],
    )
    return message
