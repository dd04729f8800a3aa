"""The deadlines of arbitration: the fee window, and the arbitrator's evidence requests."""

from __future__ import annotations

from core import deadlines
from disputes.deadlines import REMINDER_FIELDS
from disputes.models import Dispute

from .models import EvidenceRequest
from .services import (
    arbitration_windows_close,
    evidence_requests_close,
    remind_evidence,
    remind_window,
)

DStatus = Dispute.Status

ARBITRATION_WINDOW = deadlines.DeadlineKind(
    name="arbitration_window",
    model="disputes.Dispute",
    statuses={DStatus.ARBITRATION_WINDOW},
    label="Each party's time to agree to arbitration and pay its fee",
    party="parties",
    due="response_due_at",
    starts="stage_started_at",
    apply=arbitration_windows_close,
    load=lambda rows: rows.select_related("refund_request__contract"),
    reminders=REMINDER_FIELDS,
    remind=remind_window,
    sweep="arbitration.windows_close",
    reminder_sweep="arbitration.window_reminders",
    order=50,
    settled_text="The arbitration window has closed.",
)

EVIDENCE_REQUEST = deadlines.DeadlineKind(
    name="evidence_request",
    model="arbitration.EvidenceRequest",
    statuses={EvidenceRequest.Status.OPEN},
    label="Evidence the arbitrator asked for is due",
    party=lambda request: request.party,
    due="due_at",
    starts="requested_at",
    apply=evidence_requests_close,
    load=lambda rows: rows.select_related("case__dispute__refund_request__contract"),
    reminders=REMINDER_FIELDS,
    remind=remind_evidence,
    sweep="arbitration.evidence_requests_close",
    reminder_sweep="arbitration.evidence_reminders",
    order=60,
    settled_text="The request is closed.",
)

deadlines.declare(ARBITRATION_WINDOW, EVIDENCE_REQUEST)
