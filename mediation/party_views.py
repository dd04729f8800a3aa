"""The parties' side of mediation in the browser: the proposed resolution on See Dispute, and
each party's answer to it.

The panel is registered with See Dispute from ``MediationConfig.ready`` (disputes never imports
this app): it shows the agent's split and rationale, both parties' answers so far, and, to a party
who has not answered while the answer window is open, Accept and Reject. It costs one query, and
none before an agent has proposed anything. Each answer is its own POST URL calling
``resolution_answer`` once, as the disputes pages do; a refusal becomes an error message and
changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.views import NextStep
from core.errors import DomainError
from core.formats import local_when
from core.money import money
from disputes import advice
from disputes import selectors as dispute_selectors
from disputes.models import Dispute
from disputes.views import DisputePanel

from . import services
from .models import Resolution

DStatus = Dispute.Status
PARTIES = ("freelancer", "client")
# Closed before any agent was involved: there is no resolution to show.
CLOSED_BEFORE_MEDIATION = frozenset(
    {Dispute.Outcome.CLIENT_ACCEPTED, Dispute.Outcome.CLIENT_SILENT}
)
BEFORE_A_PROPOSAL = frozenset(
    {DStatus.DRAFT, DStatus.AWAITING_CLIENT, DStatus.IN_MEDIATION, DStatus.LAPSED}
)


def _other(party: str) -> str:
    return "client" if party == "freelancer" else "freelancer"


@dataclass(frozen=True)
class PartyAnswer:
    party: str
    user: object
    answer: str  # "ACCEPTED", "REJECTED" or ""
    answered_at: datetime | None
    you: bool

    @property
    def label(self) -> str:
        return dict(Resolution.Answer.choices).get(self.answer, "")


def resolution_of(dispute: Dispute) -> Resolution | None:
    """Return the dispute's latest resolution with its agent, or None (one query at most)."""
    if dispute.status in BEFORE_A_PROPOSAL or dispute.outcome in CLOSED_BEFORE_MEDIATION:
        return None
    return (
        Resolution.objects.filter(dispute=dispute)
        .select_related("proposed_by")
        .order_by("-proposed_at", "-pk")
        .first()
    )


def resolution_panel(
    *, dispute: Dispute, user, role: str | None, now: datetime, **_
) -> DisputePanel | None:
    """See Dispute's "Proposed resolution" card, from the proposal on."""
    resolution = resolution_of(dispute)
    if resolution is None:
        return None
    contract = dispute.refund_request.contract
    answers = [
        PartyAnswer(
            party=party,
            user=getattr(contract, party),
            answer=resolution.answer_of(party),
            answered_at=getattr(resolution, f"{party}_answered_at"),
            you=role == party,
        )
        for party in PARTIES
    ]
    waiting = (
        dispute.status == DStatus.RESOLUTION_PROPOSED
        and resolution.status == Resolution.Status.PROPOSED
        and now < dispute.response_due_at
    )
    deadline = None
    unanswered = [a.party for a in answers if not a.answer]
    if dispute.status == DStatus.RESOLUTION_PROPOSED and len(unanswered) == 1:
        # One party has answered: the clock now runs for the other one only.
        deadline = dispute.current_deadline().for_party(
            unanswered[0], f"The {unanswered[0]}'s time to accept or reject the proposed resolution"
        )
    other = _other(role) if role in PARTIES else None
    accepted = {p for p in PARTIES if resolution.answer_of(p) == Resolution.Answer.ACCEPTED}
    status_label = resolution.get_status_display()
    if deadline is not None:
        status_label = f"Waiting for the {unanswered[0]}"
    return DisputePanel(
        template="mediation/party/_resolution_panel.html",
        context={
            "resolution": resolution,
            "status_label": status_label,
            "advice": advice.dispute_advice(
                dispute=dispute,
                role=role,
                split=(resolution.to_freelancer, resolution.to_client),
                accepted=accepted,
            ),
            "answers": answers,
            "current": dispute.status == DStatus.RESOLUTION_PROPOSED,
            "binding": resolution.status == Resolution.Status.BINDING,
            "can_answer": (
                waiting
                and role in PARTIES
                and not resolution.answer_of(role)
                and not user.is_suspended
            ),
            "yours": next((a for a in answers if a.you), None),
            "other_user": getattr(contract, other) if other else None,
            "other_accepted": bool(other)
            and resolution.answer_of(other) == Resolution.Answer.ACCEPTED,
        },
        deadline=deadline,
    )


def next_step(*, dispute: Dispute, role: str) -> NextStep | None:
    """The contract pages' hint while a resolution waits for the parties' answers."""
    if timezone.now() >= dispute.response_due_at:
        return None  # the sweep issues the notice within minutes; the stage's name says enough
    # dispute.resolutions is prefetched for the contract pages (see apps.py): no query here.
    proposed = [r for r in dispute.resolutions.all() if r.status == Resolution.Status.PROPOSED]
    url = f"{dispute.get_absolute_url()}#resolution"
    if not proposed:
        return None
    answered = proposed[0].answer_of(role)
    if not answered:
        return NextStep("Answer the proposed resolution", True, url)
    return NextStep(f"Waiting for the {_other(role)} to answer the resolution", False, url)


# --- The parties' answers -------------------------------------------------------------------------


@login_required
@require_POST
def resolution_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, accept=True)


@login_required
@require_POST
def resolution_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, accept=False)


def _answer(request: HttpRequest, pk: int, *, accept: bool) -> HttpResponse:
    dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
    try:
        resolution = services.resolution_answer(
            dispute=dispute, actor=request.user, accept=accept, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(dispute)
    dispute.refresh_from_db(fields=["status", "response_due_at"])
    messages.success(request, _answered_message(dispute, resolution, request.user))
    return redirect(dispute)


def _answered_message(dispute: Dispute, resolution: Resolution, user) -> str:
    contract = dispute.refund_request.contract
    currency = resolution.currency
    split = (
        f"{money(resolution.to_freelancer, currency)} to {contract.freelancer} and "
        f"{money(resolution.to_client, currency)} to {contract.client}"
    )
    if dispute.status == DStatus.ARBITRATION_WINDOW:
        return (
            "You rejected the proposed resolution. A Notice of Non-Resolution is issued: the "
            f"money stays in escrow, and until {local_when(dispute.response_due_at)} each party "
            "may agree to binding arbitration and pay its share of the fee."
        )
    if dispute.status == DStatus.CLOSED:
        return (
            f"You accepted the proposed resolution. Both parties have, so the money moved: {split}."
        )
    role = contract.role_of(user)
    return advice.dispute_advice(
        dispute=dispute,
        role=role,
        split=(resolution.to_freelancer, resolution.to_client),
        accepted={role},
    ).summary
