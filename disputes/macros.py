"""Macros: staff's reusable texts, with placeholders filled in for one case.

A placeholder is a name in braces. The known ones are listed in :data:`PLACEHOLDERS` (shown in
the admin beside the text); anything else in braces is left as written, so a typo shows on the
page for the agent to correct before sending, and never fails.
"""

from __future__ import annotations

import re

from core import deadlines
from core.money import money

from .models import Dispute

PLACEHOLDERS = {
    "dispute": "the dispute's number, e.g. “Dispute #12”",
    "contract": "the contract's title",
    "milestone": "the milestone's title",
    "freelancer": "the freelancer's username",
    "client": "the client's username",
    "amount": "R, the amount in dispute, with its currency (“300.00 USD”)",
    "disputed": "D, the amount the freelancer asks for, with its currency",
    "paid": "P, what the client paid on ending, with its currency",
    "escrowed": "E, what was in escrow on ending, with its currency",
    "currency": "the contract's currency code (“USD”)",
    "deadline": "the deadline that applies now, in UTC (“2026-11-30 09:00 UTC”), or “—”",
    "agent": "the mediation agent (or “—”)",
    "arbitrator": "the arbitrator (or “—”)",
}

_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def values_for(dispute: Dispute) -> dict[str, str]:
    """What each placeholder stands for in ``dispute`` (its request and contract loaded)."""
    request = dispute.refund_request
    contract = request.contract
    currency = request.currency
    deadline = dispute.current_deadline()
    return {
        "dispute": str(dispute),
        "contract": contract.title,
        "milestone": dispute.milestone.title,
        "freelancer": str(contract.freelancer),
        "client": str(contract.client),
        "amount": money(request.amount, currency),
        "disputed": money(dispute.amount, currency, none="—"),
        "paid": money(request.paid, currency),
        "escrowed": money(request.escrowed, currency),
        "currency": currency,
        "deadline": deadlines.when(deadline.due_at) if deadline is not None else "—",
        "agent": str(dispute.agent) if dispute.agent_id else "—",
        "arbitrator": str(dispute.arbitrator) if dispute.arbitrator_id else "—",
    }


def render(text: str, dispute: Dispute) -> str:
    """``text`` with its known placeholders filled in for ``dispute``; unknown ones kept."""
    values = values_for(dispute)
    return _PLACEHOLDER.sub(lambda found: values.get(found.group(1), found.group(0)), text)
