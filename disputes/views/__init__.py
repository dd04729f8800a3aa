"""Browser pages for ending a contract, refund requests, disputes, their evidence, support cases.

The same shape as ``contracts.views``: every action has its own URL and accepts only POST, finds
its object through a selector that raises 404 for anyone who may not read it, calls one service
with the clock read here, and redirects with a message. A service's ``DomainError`` becomes an
error message, and errors on the re-rendered form (status 400) when it names fields; nothing has
changed then.

One module per page or flow, and everything the URLs and other apps use is importable from here:

- ``display``: deadlines and timeline events, ready to show;
- ``extensions``: the next steps and See Dispute panels that later stages register;
- ``edges``: what every page shares (the viewer's role, field errors, uploads);
- ``ending``, ``refund_requests``, ``filing`` (the guided dispute form), ``see_dispute`` (and
  the client's answer), ``messages`` (its thread), ``dossier``, ``evidence`` and
  ``support_cases``: the pages themselves.
"""

from __future__ import annotations

from .display import (
    AMOUNT_LABELS,
    KIND_LABELS,
    PARTY_NAMES,
    DeadlineView,
    EventView,
    deadline_label,
    deadline_view,
)
from .dossier import dispute_dossier
from .ending import contract_end
from .evidence import evidence_add, evidence_download, evidence_remove
from .extensions import (
    DisputePanel,
    PanelProvider,
    StageNextStep,
    dispute_panels,
    milestone_next_step,
    register_dispute_panel,
    register_stage_next_step,
)
from .filing import (
    STEPS,
    dispute_amount,
    dispute_details,
    dispute_feedback,
    dispute_review,
    dispute_submit,
    resume_url,
)
from .live import dispute_live, refund_request_live
from .messages import dispute_message_post
from .refund_requests import refund_request_accept, refund_request_detail
from .see_dispute import dispute_accept, dispute_decline, dispute_detail, render_dispute
from .support_cases import support_case_detail, support_case_open

__all__ = [
    "AMOUNT_LABELS",
    "deadline_label",
    "KIND_LABELS",
    "PARTY_NAMES",
    "STEPS",
    "DeadlineView",
    "DisputePanel",
    "EventView",
    "PanelProvider",
    "StageNextStep",
    "contract_end",
    "deadline_view",
    "dispute_accept",
    "dispute_amount",
    "dispute_decline",
    "dispute_detail",
    "dispute_live",
    "dispute_details",
    "dispute_dossier",
    "dispute_feedback",
    "dispute_message_post",
    "dispute_panels",
    "dispute_review",
    "dispute_submit",
    "evidence_add",
    "evidence_download",
    "evidence_remove",
    "milestone_next_step",
    "refund_request_accept",
    "refund_request_detail",
    "refund_request_live",
    "register_dispute_panel",
    "register_stage_next_step",
    "render_dispute",
    "resume_url",
    "support_case_detail",
    "support_case_open",
]
