"""Refund requests and disputes: every change to them, by a person or by a deadline.

Every status change is an action declared on the tables in ``disputes.models`` and taken through
``core.actions.perform``, in one transaction per entry point (``core.actions.service``). Locks
are always taken in the same order: refund request, then dispute, then milestone, then ledger
accounts. A person's action locks and waits; a deadline sweep claims with SKIP LOCKED. The work
an action and its deadline share (refunding, settling) is one batch function, so a sweep settles
hundreds of rows per transaction through exactly the code a single click runs.

One module per concern, and everything other apps and the views call is importable from here:

- ``errors``: the named refusals;
- ``locks``: the row locks, in the global order;
- ``timeline``: the timeline writer, and notifications to both parties;
- ``ending``: ending a contract, which opens the refund requests;
- ``refund_requests``: refunding, by the freelancer's acceptance or their deadline;
- ``filing``: the freelancer's draft dispute, its changes and its submission;
- ``evidence``: files attached to a dispute;
- ``closing``: the one way a dispute ends and pays out its escrow;
- ``client_answer``: the client's acceptance, decline or silence;
- ``messages``: the thread between the parties and the case's staff member;
- ``support_cases``: help for funded work the client neither pays nor ends;
- ``stages`` and ``staff``: what the mediation and arbitration apps build on;
- ``assignment``: automatic assignment by load, the high-value tier, reassignment.

The deadlines these services apply are declared in ``disputes.deadlines``.
"""

from __future__ import annotations

from .assignment import (
    dispute_is_high_value,
    dispute_reassign,
    disputes_auto_assign,
    high_value_filter,
    is_high_value,
    tier_refusal,
)
from .client_answer import (
    dispute_accept,
    dispute_decline,
    disputes_expire_client_answer,
    disputes_settle_on_client_answer,
)
from .closing import Closing, disputes_close
from .ending import contract_end
from .errors import DisputeAlreadyStarted, FilingLocked, NotTheClient, NotTheFreelancer
from .evidence import EVIDENCE_STAGES, evidence_add, evidence_remove
from .filing import dispute_start, dispute_submit, dispute_update
from .locks import lock_dispute
from .messages import dispute_message_post
from .refund_requests import refund_request_accept, refund_requests_expire, refund_requests_refund
from .staff import ASSIGNMENTS, dispute_assign, dispute_extend, dispute_note_add
from .stages import Advance, dispute_advance, disputes_advance
from .support_cases import support_case_close, support_case_open
from .timeline import notify_parties, remind_parties

__all__ = [
    "dispute_is_high_value",
    "dispute_reassign",
    "disputes_auto_assign",
    "high_value_filter",
    "is_high_value",
    "tier_refusal",
    "ASSIGNMENTS",
    "Advance",
    "EVIDENCE_STAGES",
    "Closing",
    "DisputeAlreadyStarted",
    "FilingLocked",
    "NotTheClient",
    "NotTheFreelancer",
    "contract_end",
    "dispute_accept",
    "dispute_advance",
    "disputes_advance",
    "dispute_assign",
    "dispute_decline",
    "dispute_extend",
    "dispute_message_post",
    "dispute_note_add",
    "dispute_start",
    "dispute_submit",
    "dispute_update",
    "disputes_close",
    "disputes_expire_client_answer",
    "disputes_settle_on_client_answer",
    "evidence_add",
    "evidence_remove",
    "lock_dispute",
    "notify_parties",
    "refund_request_accept",
    "refund_requests_expire",
    "refund_requests_refund",
    "remind_parties",
    "support_case_close",
    "support_case_open",
]
