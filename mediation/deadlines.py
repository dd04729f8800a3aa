"""The deadlines of mediation: the agents' service level and the parties' answer."""

from __future__ import annotations

from django.conf import settings

from core import deadlines
from disputes.deadlines import REMINDER_FIELDS
from disputes.models import Dispute

from .services import remind_resolution, resolutions_expire

DStatus = Dispute.Status

MEDIATION_SERVICE_LEVEL = deadlines.DeadlineKind(
    name="mediation_service_level",
    model="disputes.Dispute",
    statuses={DStatus.IN_MEDIATION},
    label="A mediation agent proposes a resolution (service level)",
    task="propose a resolution",
    party="agent",
    due=lambda d: d.declined_at + settings.MEDIATION_SERVICE_LEVEL if d.declined_at else None,
    starts="declined_at",
    enforced=False,
    extendable=False,
    order=35,
)

RESOLUTION_RESPONSE = deadlines.DeadlineKind(
    name="resolution_response",
    model="disputes.Dispute",
    statuses={DStatus.RESOLUTION_PROPOSED},
    label="Both parties' time to accept or reject the proposed resolution",
    task="both parties accept or reject the proposed resolution",
    party="parties",
    due="response_due_at",
    starts="stage_started_at",
    apply=resolutions_expire,
    load=lambda rows: rows.select_related("refund_request__contract"),
    reminders=REMINDER_FIELDS,
    remind=remind_resolution,
    sweep="mediation.resolutions_expire",
    reminder_sweep="mediation.resolution_reminders",
    order=40,
    settled_text="A Notice of Non-Resolution was issued.",
)

deadlines.declare(MEDIATION_SERVICE_LEVEL, RESOLUTION_RESPONSE)
