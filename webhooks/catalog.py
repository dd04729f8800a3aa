"""The event catalog: every type of event integrators receive, and what its ``data`` is.

An event is ``{"id", "type", "created_at", "data"}``; ``data`` is the object the event is about,
as its own GET returns it to the recipient. The types are declared where the changes are: an
action's ``emits`` and a table's ``entering`` and ``created`` (``core.actions``), and the
reminder sweep (``deadline.reminder``). A test holds those declarations to this catalog.
"""

from __future__ import annotations

# type -> what happened; the object ``data`` is (its GET) comes after the colon.
TYPES: dict[str, str] = {
    "contract.created": "A client opened a contract: the contract (GET /contracts/{id}/).",
    "contract.ended": "The client ended the contract: the contract.",
    "milestone.funded": "The client funded a milestone into escrow: the milestone "
    "(GET /milestones/{id}/).",
    "milestone.submitted": "The freelancer submitted work: the milestone.",
    "milestone.released": "Money was released to the freelancer, by the client or by the "
    "auto-release deadline (all of the escrow, or part of it): the milestone.",
    "refund_request.opened": "Ending the contract left money in escrow, and a refund is asked "
    "for: the refund request (GET /refund-requests/{id}/).",
    "refund_request.accepted": "The freelancer accepted the refund: the refund request.",
    "refund_request.expired": "The freelancer did not answer in time; refunded: the refund "
    "request.",
    "dispute.submitted": "The freelancer submitted a dispute: the dispute (GET /disputes/{id}/).",
    "dispute.accepted": "The client accepted the dispute: the dispute.",
    "dispute.declined": "The client declined the dispute; it goes to mediation: the dispute.",
    "dispute.closed": "The dispute closed, whichever way (see its outcome): the dispute.",
    "offer.made": "A party made a settlement offer: the offer.",
    "offer.accepted": "The other party accepted an offer: the offer.",
    "offer.declined": "The other party declined an offer: the offer.",
    "offer.withdrawn": "The maker withdrew an offer: the offer.",
    "offer.lapsed": "An offer lapsed: the offer.",
    "resolution.proposed": "A mediation agent proposed a resolution: the dispute (its "
    "`resolution`).",
    "resolution.accepted": "A party accepted the proposed resolution (both have once "
    "`resolution.status` is ACCEPTED): the dispute.",
    "resolution.rejected": "A party rejected the proposed resolution: the dispute.",
    "notice.issued": "A Notice of Non-Resolution: the arbitration window opens: the dispute.",
    "arbitration.fee_paid": "A party paid its arbitration fee: the dispute (its `arbitration`).",
    "arbitration.case_opened": "Both parties paid: the arbitration case opened: the dispute.",
    "evidence_request.opened": "The arbitrator asked a party for more evidence: the dispute.",
    "evidence_request.closed": "An evidence request closed (its due date, or the award): the "
    "dispute.",
    "award.issued": "The arbitrator issued the final award: the dispute.",
    "deadline.extended": "A mediation agent extended the current deadline: the dispute.",
    "deadline.reminder": "A deadline is 48 or 24 hours away: the milestone (auto_release), the "
    "refund request (refund_request_response) or the dispute (every other kind, and an "
    "evidence request's due date).",
}

CHOICES = [(name, name) for name in TYPES]

# "dispute.*" stands for every type of the dispute namespace; "*" for every type.
NAMESPACES = frozenset(name.split(".")[0] for name in TYPES)


def is_pattern(value: str) -> bool:
    """Whether ``value`` names types: "*", a type, or a namespace followed by ".*"."""
    if value == "*" or value in TYPES:
        return True
    return value.endswith(".*") and value[:-2] in NAMESPACES


def matches(patterns, event_type: str) -> bool:
    """Whether ``event_type`` is one of ``patterns`` ("*", "dispute.*", "offer.accepted")."""
    for pattern in patterns:
        if pattern == "*" or pattern == event_type:
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


PATTERN_HELP = (
    'Each is "*" (every type), a type ("offer.accepted") or a namespace and ".*" ("dispute.*": '
    "every dispute.… type). Types: " + ", ".join(TYPES) + "."
)
