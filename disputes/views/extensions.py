"""What later stages add to the disputes pages, and what the contract pages ask of disputes.

The contract pages ask :func:`milestone_next_step` for a held milestone's next step (registered
in ``DisputesConfig.ready``). The mediation and arbitration apps register, from their own
``AppConfig.ready``, the next step of a dispute in their stages and their panels on See Dispute,
so this app never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from contracts.models import Contract, Milestone
from contracts.views import NextStep

from ..models import Deadline, Dispute, RefundRequest
from .display import _dispute_of
from .filing import resume_url

RRStatus = RefundRequest.Status
DStatus = Dispute.Status


# --- Hints on the contract pages (registered in DisputesConfig.ready) -------------------------


def milestone_next_step(*, contract: Contract, milestone: Milestone, role: str) -> NextStep | None:
    """The next step of a milestone held for a refund request, for the contract pages."""
    if milestone.status != Milestone.Status.HELD:
        return None
    try:
        refund = milestone.refund_request
    except RefundRequest.DoesNotExist:
        return None
    dispute = _dispute_of(refund)
    if refund.status == RRStatus.OPEN:
        if role == "client":
            return NextStep(
                "Waiting for the freelancer to answer the refund request",
                False,
                refund.get_absolute_url(),
            )
        if dispute is not None and dispute.status == DStatus.DRAFT:
            return NextStep("Finish your dispute draft", True, resume_url(dispute))
        return NextStep("Answer refund request", True, refund.get_absolute_url())
    if dispute is not None and dispute.status == DStatus.AWAITING_CLIENT:
        if role == "client":
            return NextStep("Answer dispute", True, dispute.get_absolute_url())
        return NextStep(
            "Waiting for the client to answer your dispute", False, dispute.get_absolute_url()
        )
    if dispute is not None and dispute.is_open:
        # Later stages (mediation, arbitration) say what to do through their own providers.
        provider = _stage_next_steps.get(dispute.status)
        step = provider(dispute=dispute, role=role) if provider else None
        return step or NextStep(dispute.get_status_display(), False, dispute.get_absolute_url())
    return None


# A later stage registers how it tells a party's next step while a dispute is in it:
# ``provider(dispute=, role=) -> NextStep | None``. The dispute comes with its refund request.
StageNextStep = Callable[..., NextStep | None]


_stage_next_steps: dict[str, StageNextStep] = {}


def register_stage_next_step(status: str, provider: StageNextStep) -> StageNextStep:
    """Ask ``provider`` for the next step of a milestone whose dispute is in ``status``."""
    _stage_next_steps[status] = provider
    return provider


# --- Panels that later stages add to See Dispute (registered from their AppConfig.ready) ------


@dataclass(frozen=True)
class DisputePanel:
    """A later stage's part of See Dispute: its template, that template's context (as
    ``panel``), and the deadline the page shows instead of the dispute's own, if any."""

    template: str
    context: dict
    deadline: Deadline | None = None


PanelProvider = Callable[..., DisputePanel | None]


_dispute_panels: list[tuple[int, PanelProvider]] = []


def register_dispute_panel(provider: PanelProvider, *, stage: int) -> PanelProvider:
    """Ask ``provider(dispute=, user=, role=, events=, bound=, now=)`` for a See Dispute panel.

    ``events`` are the timeline events the viewer may read, already loaded; ``bound`` holds forms
    to show with the user's input and errors. A provider returns None, without a query, before
    its stage; after, it reads with one or two queries whatever the number of rows, so the page
    costs the same for any dispute. Panels of later stages (higher ``stage``) come first: the
    current stage on top, the earlier ones below it.
    """
    if all(registered is not provider for _, registered in _dispute_panels):
        _dispute_panels.append((stage, provider))
        _dispute_panels.sort(key=lambda item: -item[0])
    return provider


def dispute_panels(**context) -> list[DisputePanel]:
    return [panel for _, provider in _dispute_panels if (panel := provider(**context)) is not None]
