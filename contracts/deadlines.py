"""The contract's own deadline: submitted work is released unless the client acts in time."""

from __future__ import annotations

from datetime import datetime

from accounts.services import Message, notifications_send
from core import deadlines

from .models import Milestone
from .services.milestones import milestones_auto_release


def _remind_auto_release(milestones: list[Milestone], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=m.contract.client_id,
                kind="auto_release_reminder",
                title=f"{hours} hours left to review “{m.title}”",
                body=(
                    f"The work submitted on “{m.contract.title}” will be released to the "
                    f"freelancer automatically on {deadlines.when(m.auto_release_due_at)} "
                    f"unless you release the payment or end the contract first."
                ),
                url=m.contract.get_absolute_url(),
            )
            for m in milestones
        ],
        now=now,
    )


AUTO_RELEASE = deadlines.DeadlineKind(
    name="auto_release",
    model="contracts.Milestone",
    statuses={Milestone.Status.SUBMITTED},
    label="The client releases the payment or ends the contract",
    party="client",
    due="auto_release_due_at",
    starts="submitted_at",
    apply=milestones_auto_release,
    reminders={48: "auto_release_reminded_48h_at", 24: "auto_release_reminded_24h_at"},
    remind=_remind_auto_release,
    remind_load=lambda rows: rows.select_related("contract"),
    sweep="contracts.auto_release",
    reminder_sweep="contracts.auto_release_reminders",
    order=10,
    settled_text="The work was released to the freelancer automatically.",
)

deadlines.declare(AUTO_RELEASE)
