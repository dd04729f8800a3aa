"""The deadlines of mediation: the agents' service level and the parties' answer."""

from __future__ import annotations

from django.conf import settings

from core import deadlines
from disputes.deadlines import REMINDER_FIELDS
from disputes.models import Dispute

from .services import remind_resolution, resolutions_expire, service_levels_breach

DStatus = Dispute.Status

MEDIATION_SERVICE_LEVEL = deadlines.DeadlineKind(
    name="mediation_service_level",
    model="disputes.Dispute",
    statuses={DStatus.IN_MEDIATION},
    label="A mediation agent proposes a resolution (service level)",
    task="propose a resolution",
    party="agent",
    due=lambda d: (
        d.service_level_due_at
        or (d.declined_at + settings.MEDIATION_SERVICE_LEVEL if d.declined_at else None)
    ),
    starts="declined_at",
    enforced=False,
    extendable=False,
    order=35,
)

# The same service level, swept: once it passed with no proposal, the case is flagged and its
# agent and Support are told, once (only unflagged rows are ever claimed). It moves no money
# and is shown by the kind above, which comes first.
MEDIATION_SERVICE_LEVEL_BREACH = deadlines.DeadlineKind(
    name="mediation_service_level_breach",
    model="disputes.Dispute",
    statuses={DStatus.IN_MEDIATION},
    label="The agents' service level ran out: the case is escalated",
    task="propose a resolution",
    party="agent",
    due="service_level_due_at",
    starts="declined_at",
    enforced=False,
    extendable=False,
    apply=service_levels_breach,
    load=lambda rows: rows.filter(service_level_breached_at__isnull=True).select_related(
        "refund_request__contract"
    ),
    sweep="mediation.service_level_breaches",
    order=36,
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

deadlines.declare(MEDIATION_SERVICE_LEVEL, MEDIATION_SERVICE_LEVEL_BREACH, RESOLUTION_RESPONSE)
