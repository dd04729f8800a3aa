"""Browser pages for ending a contract, refund requests, disputes, their evidence, support cases.

The same shape as ``contracts.views``: every action has its own URL and accepts only POST, finds
its object through a selector that raises 404 for anyone who may not read it, calls one service
with the clock read here, and redirects with a message. A service's ``DomainError`` becomes an
error message, and errors on the re-rendered form (status 400) when it names fields; nothing has
changed then.

Filing a dispute is a guided form in the order of the help article (seed 000), one page per step,
each working without JavaScript: feedback on the client (which starts the draft), the details and
evidence, the amount to review, then a review page that submits. Once submitted, every step
refuses with the service's FilingLocked and sends the freelancer to See Dispute.

Two actions call their service once per uploaded file (saving the details step, adding evidence);
they run in one transaction and delete the files they stored if it rolls back, so a refused file
leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods, require_POST

from contracts import selectors as contract_selectors
from contracts.models import Contract, Milestone
from contracts.views import NextStep
from core.errors import DomainError
from core.files import private_file_response
from core.formats import local_when
from core.money import format_amount, money

from . import selectors, services
from .forms import (
    AmountForm,
    DeclineForm,
    DetailsForm,
    EndContractForm,
    EvidenceForm,
    FeedbackForm,
    SupportCaseForm,
)
from .models import Deadline, Dispute, Evidence, RefundRequest, TimelineEvent

RRStatus = RefundRequest.Status
DStatus = Dispute.Status


def _dispute_of(refund: RefundRequest) -> Dispute | None:
    try:
        return refund.dispute
    except Dispute.DoesNotExist:
        return None


def _can_see_dispute(dispute: Dispute | None, *, user, role: str | None) -> bool:
    """A client sees a dispute once it is submitted; a draft is the freelancer's own."""
    if dispute is None:
        return False
    return user.is_staff or role == "freelancer" or dispute.submitted_at is not None


# --- Deadlines and the timeline, ready to show -----------------------------------------------

PARTY_NAMES = {
    "freelancer": "the freelancer",
    "client": "the client",
    "parties": "both parties",
    "agent": "a mediation agent",
    "arbitrator": "the arbitrator",
}
DEADLINE_LABELS = {
    "refund_request_response": "The freelancer accepts the refund or files a dispute",
    "client_response": "The client accepts or declines the dispute",
    "mediation_service_level": "A mediation agent proposes a resolution",
    "resolution_response": "Both parties accept or reject the proposed resolution",
    "arbitration_window": "Each party agrees to arbitration and pays its fee",
    "evidence_request": "Evidence the arbitrator asked for is due",
    "extended": "The extended deadline",
}
AMOUNT_LABELS = {
    "escrowed": "Escrowed (E)",
    "paid": "Paid (P)",
    "refund_requested": "Refund asked (R)",
    "disputed": "Disputed (D)",
    "refunded": "Refunded to the client",
    "to_freelancer": "To the freelancer",
    "to_client": "To the client",
    "fee": "Arbitration fee",
}
KIND_LABELS = dict(TimelineEvent.Kind.choices)


@dataclass(frozen=True)
class DeadlineView:
    """A deadline as the viewer sees it: whose move, how far along, whether it has passed."""

    label: str
    party: str
    starts_at: datetime | None
    due_at: datetime
    enforced: bool
    percent: int | None  # None when the start is unknown: no progress bar then
    passed: bool
    yours: bool


def deadline_view(
    deadline: Deadline | None, *, now: datetime, role: str | None
) -> DeadlineView | None:
    if deadline is None:
        return None
    percent = None
    if deadline.starts_at is not None:
        total = (deadline.due_at - deadline.starts_at).total_seconds()
        elapsed = (now - deadline.starts_at).total_seconds()
        percent = 100 if total <= 0 else round(100 * min(max(elapsed / total, 0), 1))
    return DeadlineView(
        label=deadline.label,
        party=PARTY_NAMES.get(deadline.party, deadline.party),
        starts_at=deadline.starts_at,
        due_at=deadline.due_at,
        enforced=deadline.enforced,
        percent=percent,
        passed=now >= deadline.due_at,
        yours=role is not None and (deadline.party == role or deadline.party == "parties"),
    )


@dataclass(frozen=True)
class EventView:
    at: datetime
    actor: str
    label: str
    amounts: list[tuple[str, str]]
    note: str
    deadline_label: str
    deadline_due_at: datetime | None
    deadline_enforced: bool
    evidence_url: str
    internal: bool


def _timeline(events: Iterable[TimelineEvent], currency: str) -> list[EventView]:
    return [
        EventView(
            at=event.at,
            actor=str(event.actor) if event.actor_id else "the system",
            label=KIND_LABELS.get(event.kind) or event.kind.replace("_", " ").capitalize(),
            amounts=[
                (AMOUNT_LABELS.get(key, key.replace("_", " ").capitalize()), f"{value} {currency}")
                for key, value in (event.amounts or {}).items()
            ],
            note=event.note,
            deadline_label=(
                DEADLINE_LABELS.get(event.deadline_kind, event.deadline_kind.replace("_", " "))
                if event.deadline_due_at
                else ""
            ),
            deadline_due_at=event.deadline_due_at,
            deadline_enforced=not event.deadline_kind.endswith("service_level"),
            evidence_url=(
                reverse("disputes:evidence-download", kwargs={"pk": event.evidence_id})
                if event.evidence_id
                else ""
            ),
            internal=event.internal,
        )
        for event in events
    ]


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


# --- Shared edges -------------------------------------------------------------------------------


def _add_field_errors(
    form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None
) -> bool:
    """Put the service's field errors on ``form``; return whether any named a form field."""
    aliases = aliases or {}
    named = False
    for name, errors in exc.fields.items():
        field = aliases.get(name, name)
        if field in form.fields:
            named = True
            form.add_error(field, errors)
        else:
            form.add_error(None, errors)
    return named


def _store_each(files: list, add: Callable[[object], Evidence]) -> list[Evidence]:
    """Call ``add`` for each file in one transaction; on a refusal, delete what was stored."""
    stored: list[Evidence] = []
    try:
        with transaction.atomic():
            for upload in files:
                stored.append(add(upload))
    except DomainError:
        _discard(stored)
        raise
    return stored


def _discard(stored: list[Evidence]) -> None:
    for evidence in stored:
        evidence.file.delete(save=False)


def _files_text(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


# --- Ending a contract --------------------------------------------------------------------------


def _end_form(contract: Contract, data=None) -> EndContractForm:
    holding = [
        m
        for m in contract.milestones.all()
        if m.status in (Milestone.Status.FUNDED, Milestone.Status.SUBMITTED)
    ]
    return EndContractForm(data, milestones=holding, currency=contract.currency)


def _render_end(request, contract: Contract, form: EndContractForm, status: int = 200):
    context = {
        "contract": contract,
        "form": form,
        "pending": [m for m in contract.milestones.all() if m.status == Milestone.Status.PENDING],
        "total_escrow": sum((m.escrow_balance for m, _ in form.rows()), Decimal(0)),
    }
    return render(request, "disputes/contract_end.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contract_end(request: HttpRequest, pk: int) -> HttpResponse:
    contract = contract_selectors.contract_get_for_user(user=request.user, pk=pk)
    if request.method == "GET":
        if contract.role_of(request.user) != "client":
            messages.error(request, services.NotTheClient.default_message)
            return redirect(contract)
        if contract.status != Contract.Status.ACTIVE:
            messages.error(request, "This contract has ended already.")
            return redirect(contract)
        return _render_end(request, contract, _end_form(contract))

    form = _end_form(contract, request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _render_end(request, contract, form, status=400)
    try:
        requests = services.contract_end(
            contract=contract, actor=request.user, payments=form.payments(), now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        aliases = {name: form.service_field(name) or name for name in exc.fields}
        if _add_field_errors(form, exc, aliases):
            return _render_end(request, contract, form, status=400)
        return redirect(contract)
    messages.success(request, _ended_message(contract, requests))
    return redirect(contract)


def _ended_message(contract: Contract, requests: list[RefundRequest]) -> str:
    head = format_html("Contract “{}” ended.", contract.title)
    if not requests:
        return format_html("{} Nothing was left in escrow, so there is no refund request.", head)
    parts = format_html_join(
        " ",
        "{} of “{}” is asked back as a refund: {} has until {} to accept it or file a dispute. "
        '<a href="{}">See Request</a>',
        (
            (
                money(r.amount, r.currency),
                r.milestone.title,
                contract.freelancer,
                local_when(r.response_due_at),
                r.get_absolute_url(),
            )
            for r in requests
        ),
    )
    return format_html("{} {}", head, parts)


# --- Refund requests ----------------------------------------------------------------------------


def _role(contract: Contract, user) -> str | None:
    return contract.role_of(user)


@login_required
def refund_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    refund = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    contract = refund.contract
    role = _role(contract, request.user)
    dispute = _dispute_of(refund)
    now = timezone.now()
    is_open = refund.status == RRStatus.OPEN
    draft = dispute if dispute is not None and dispute.status == DStatus.DRAFT else None
    context = {
        "refund": refund,
        "contract": contract,
        "milestone": refund.milestone,
        "role": role,
        "dispute": dispute if _can_see_dispute(dispute, user=request.user, role=role) else None,
        "draft": draft if role == "freelancer" else None,
        "resume_url": resume_url(draft) if draft else "",
        "deadline": deadline_view(refund.current_deadline(), now=now, role=role),
        "can_answer": is_open and role == "freelancer" and not request.user.is_suspended,
        "events": _timeline(
            selectors.timeline_for_viewer(refund_request=refund, user=request.user, role=role),
            refund.currency,
        ),
    }
    return render(request, "disputes/refund_request.html", context)


@login_required
@require_POST
def refund_request_accept(request: HttpRequest, pk: int) -> HttpResponse:
    refund = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    try:
        services.refund_request_accept(
            refund_request=refund, actor=request.user, now=timezone.now()
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(refund)
    messages.success(
        request,
        f"You accepted the refund: {money(refund.amount, refund.currency)} went back to "
        f"{refund.contract.client}.",
    )
    return redirect(refund)


# --- Filing a dispute: the guided form ----------------------------------------------------------

STEPS = [
    ("feedback", "Feedback"),
    ("details", "Details and evidence"),
    ("amount", "Amount"),
    ("review", "Review and submit"),
]


def resume_url(dispute: Dispute) -> str:
    """The first step of a draft that still needs the freelancer's input."""
    if not dispute.reason or not dispute.description:
        return reverse("disputes:dispute-details", kwargs={"pk": dispute.pk})
    if dispute.amount is None:
        return reverse("disputes:dispute-amount", kwargs={"pk": dispute.pk})
    return reverse("disputes:dispute-review", kwargs={"pk": dispute.pk})


def _step_url(step: str, refund: RefundRequest, dispute: Dispute | None) -> str:
    if step == "feedback":
        return reverse("disputes:dispute-feedback", kwargs={"pk": refund.pk})
    if dispute is None:
        return ""
    return reverse(f"disputes:dispute-{step}", kwargs={"pk": dispute.pk})


def _filing_refusal(
    request: HttpRequest, *, refund: RefundRequest, dispute: Dispute | None, role: str | None
) -> HttpResponse | None:
    """Say why the viewer cannot edit this filing now (before any form is shown), or None."""
    if role != "freelancer":
        messages.error(request, services.NotTheFreelancer.default_message)
        if _can_see_dispute(dispute, user=request.user, role=role):
            return redirect(dispute)
        return redirect(refund)
    if dispute is not None and dispute.submitted_at is not None:
        messages.error(request, services.FilingLocked.default_message)
        return redirect(dispute)
    if refund.status != RRStatus.OPEN:
        messages.error(
            request,
            f"This refund request is closed ({refund.get_status_display().lower()}); it can no "
            "longer be disputed.",
        )
        return redirect(refund)
    return None


def _filing_failed(
    request: HttpRequest,
    exc: DomainError,
    *,
    refund: RefundRequest,
    dispute: Dispute | None,
    form: forms.Form | None = None,
    render_step: Callable[[], HttpResponse] | None = None,
    aliases: dict[str, str] | None = None,
) -> HttpResponse:
    """Report a refused step: on its form when the error names fields, else by redirect."""
    messages.error(request, exc.message)
    named = form is not None and exc.fields and _add_field_errors(form, exc, aliases)
    if named and render_step is not None:
        return render_step()
    if isinstance(exc, services.FilingLocked) and dispute is not None:
        return redirect(dispute)
    return redirect(refund)


def _render_step(
    request: HttpRequest,
    step: str,
    *,
    refund: RefundRequest,
    dispute: Dispute | None,
    status: int = 200,
    **extra,
) -> HttpResponse:
    now = timezone.now()
    current = [name for name, _ in STEPS].index(step)
    steps = [
        {
            "number": index + 1,
            "name": name,
            "label": label,
            "url": _step_url(name, refund, dispute),
            "current": index == current,
            "done": index < current,
        }
        for index, (name, label) in enumerate(STEPS)
    ]
    context = {
        "refund": refund,
        "dispute": dispute,
        "contract": refund.contract,
        "milestone": refund.milestone,
        "role": "freelancer",
        "steps": steps,
        "step": steps[current],
        "deadline": deadline_view(refund.current_deadline(), now=now, role="freelancer"),
        **extra,
    }
    return render(request, f"disputes/step_{step}.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def dispute_feedback(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 1: rate the client and comment; the first save starts the draft."""
    refund = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    dispute = _dispute_of(refund)
    role = _role(refund.contract, request.user)
    if request.method == "GET":
        refused = _filing_refusal(request, refund=refund, dispute=dispute, role=role)
        if refused:
            return refused
        initial = {}
        if dispute is not None:
            initial = {
                "feedback_rating": str(dispute.feedback_rating),
                "feedback_comment": dispute.feedback_comment,
            }
        form = FeedbackForm(initial=initial)
        return _render_step(request, "feedback", refund=refund, dispute=dispute, form=form)

    form = FeedbackForm(request.POST)

    def render_step() -> HttpResponse:
        return _render_step(
            request, "feedback", refund=refund, dispute=dispute, form=form, status=400
        )

    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return render_step()
    fields = {
        "feedback_rating": form.cleaned_data["feedback_rating"],
        "feedback_comment": form.cleaned_data["feedback_comment"],
    }
    try:
        if dispute is None:
            dispute = services.dispute_start(
                refund_request=refund, actor=request.user, now=timezone.now(), **fields
            )
        else:
            dispute = services.dispute_update(
                dispute=dispute, actor=request.user, changes=fields, now=timezone.now()
            )
    except DomainError as exc:
        return _filing_failed(
            request, exc, refund=refund, dispute=dispute, form=form, render_step=render_step
        )
    messages.success(
        request,
        "Your feedback is saved in a draft dispute. Next, the details and your evidence.",
    )
    return redirect("disputes:dispute-details", pk=dispute.pk)


def _draft_for_step(request: HttpRequest, pk: int) -> tuple[Dispute, RefundRequest, str | None]:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    refund = dispute.refund_request
    return dispute, refund, _role(refund.contract, request.user)


@login_required
@require_http_methods(["GET", "POST"])
def dispute_details(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 2: the reason, the description of the agreements and the work, and evidence."""
    dispute, refund, role = _draft_for_step(request, pk)

    def render_step(form: DetailsForm, status: int = 200) -> HttpResponse:
        return _render_step(
            request,
            "details",
            refund=refund,
            dispute=dispute,
            form=form,
            evidence=list(selectors.dispute_evidence(dispute=dispute)),
            status=status,
        )

    if request.method == "GET":
        refused = _filing_refusal(request, refund=refund, dispute=dispute, role=role)
        if refused:
            return refused
        form = DetailsForm(initial={"reason": dispute.reason, "description": dispute.description})
        return render_step(form)

    proceed = request.POST.get("action") == "continue"
    form = DetailsForm(request.POST, request.FILES, require_complete=proceed)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return render_step(form, status=400)
    now = timezone.now()
    files = form.cleaned_data["files"]
    try:
        with transaction.atomic():
            services.dispute_update(
                dispute=dispute,
                actor=request.user,
                changes={
                    "reason": form.cleaned_data["reason"],
                    "description": form.cleaned_data["description"],
                },
                now=now,
            )
            _store_each(
                files,
                lambda upload: services.evidence_add(
                    dispute=dispute, actor=request.user, file=upload, now=now
                ),
            )
    except DomainError as exc:
        return _filing_failed(
            request,
            exc,
            refund=refund,
            dispute=dispute,
            form=form,
            render_step=lambda: render_step(form, status=400),
            aliases={"file": "files"},
        )
    attached = f" with {_files_text(len(files))} attached" if files else ""
    if proceed:
        messages.success(request, f"Details saved{attached}. Next, the amount to review.")
        return redirect("disputes:dispute-amount", pk=dispute.pk)
    messages.success(
        request,
        f"Draft saved{attached}. A draft does not stop the clock: submit it by "
        f"{local_when(refund.response_due_at)}, or the refund goes back to the client.",
    )
    return redirect("disputes:dispute-details", pk=dispute.pk)


@login_required
@require_http_methods(["GET", "POST"])
def dispute_amount(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 3: D, the amount to review, more than 0 and at most R."""
    dispute, refund, role = _draft_for_step(request, pk)
    refund_text = money(refund.amount, refund.currency)

    def render_step(form: AmountForm, status: int = 200) -> HttpResponse:
        return _render_step(
            request, "amount", refund=refund, dispute=dispute, form=form, status=status
        )

    if request.method == "GET":
        refused = _filing_refusal(request, refund=refund, dispute=dispute, role=role)
        if refused:
            return refused
        initial = {}
        if dispute.amount is not None:
            initial["amount"] = format_amount(dispute.amount, refund.currency)
        form = AmountForm(initial=initial, currency=refund.currency, refund=refund_text)
        return render_step(form)

    form = AmountForm(request.POST, currency=refund.currency, refund=refund_text)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return render_step(form, status=400)
    try:
        services.dispute_update(
            dispute=dispute,
            actor=request.user,
            changes={"amount": form.cleaned_data["amount"].strip()},
            now=timezone.now(),
        )
    except DomainError as exc:
        return _filing_failed(
            request,
            exc,
            refund=refund,
            dispute=dispute,
            form=form,
            render_step=lambda: render_step(form, status=400),
        )
    return redirect("disputes:dispute-review", pk=dispute.pk)


@login_required
def dispute_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Step 4: everything at once, and the Submit button."""
    dispute, refund, role = _draft_for_step(request, pk)
    refused = _filing_refusal(request, refund=refund, dispute=dispute, role=role)
    if refused:
        return refused
    missing = [
        (label, _step_url(step, refund, dispute))
        for present, label, step in (
            (dispute.feedback_comment, "your feedback on the client", "feedback"),
            (dispute.reason, "a reason", "details"),
            (dispute.description, "a description of the agreements and your work", "details"),
            (dispute.amount is not None, "the amount to review", "amount"),
        )
        if not present
    ]
    return _render_step(
        request,
        "review",
        refund=refund,
        dispute=dispute,
        evidence=list(selectors.dispute_evidence(dispute=dispute)),
        missing=missing,
    )


@login_required
@require_POST
def dispute_submit(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    refund = dispute.refund_request
    try:
        dispute = services.dispute_submit(dispute=dispute, actor=request.user, now=timezone.now())
    except DomainError as exc:
        if exc.code == "incomplete":
            details = " ".join(message for errors in exc.fields.values() for message in errors)
            messages.error(request, f"{exc.message} {details}")
            return redirect("disputes:dispute-review", pk=dispute.pk)
        return _filing_failed(request, exc, refund=refund, dispute=dispute)
    contract = refund.contract
    messages.success(
        request,
        f"Dispute submitted. {contract.client} has until {local_when(dispute.response_due_at)} to "
        f"accept or decline it; if they do nothing, {money(dispute.amount, refund.currency)} "
        "is released to you.",
    )
    return redirect(dispute)


# --- See Dispute and the client's answer --------------------------------------------------------


def _render_dispute(
    request: HttpRequest, *, pk: int, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """Render See Dispute; ``bound`` holds forms to show with the user's input and errors."""
    bound = bound or {}
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    refund = dispute.refund_request
    contract = refund.contract
    user = request.user
    role = _role(contract, user)
    now = timezone.now()
    answering = (
        role == "client" and dispute.status == DStatus.AWAITING_CLIENT and not user.is_suspended
    )
    events = list(selectors.timeline_for_viewer(refund_request=refund, user=user, role=role))
    panels = dispute_panels(
        dispute=dispute, user=user, role=role, events=events, bound=bound, now=now
    )
    deadline = next((p.deadline for p in panels if p.deadline), None) or dispute.current_deadline()
    context = {
        "dispute": dispute,
        "refund": refund,
        "contract": contract,
        "milestone": dispute.milestone,
        "role": role,
        "deadline": deadline_view(deadline, now=now, role=role),
        "panels": panels,
        "feedback_visible": (
            user.is_staff or role == "freelancer" or dispute.feedback_is_visible_to_client
        ),
        "evidence": list(selectors.dispute_evidence(dispute=dispute)),
        "events": _timeline(events, refund.currency),
        "can_answer": answering,
        "decline_form": bound.get("decline") or (DeclineForm() if answering else None),
        "evidence_form": bound.get("evidence") or (EvidenceForm() if answering else None),
        "resume_url": (
            resume_url(dispute) if role == "freelancer" and dispute.status == DStatus.DRAFT else ""
        ),
        "to_review": dispute.amount if dispute.amount is not None else None,
        "rest": refund.amount - dispute.amount if dispute.amount is not None else None,
    }
    return render(request, "disputes/dispute.html", context, status=status)


def render_dispute(
    request: HttpRequest, *, pk: int, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """Render See Dispute, for a later stage's action that shows its form's errors there."""
    return _render_dispute(request, pk=pk, bound=bound, status=status)


@login_required
def dispute_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_dispute(request, pk=pk)


@login_required
@require_POST
def dispute_accept(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    try:
        dispute = services.dispute_accept(dispute=dispute, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(dispute)
    refund = dispute.refund_request
    messages.success(
        request,
        f"You accepted the dispute: {money(dispute.to_freelancer, refund.currency)} was "
        f"released to {refund.contract.freelancer} and "
        f"{money(dispute.to_client, refund.currency)} refunded to you.",
    )
    return redirect(dispute)


@login_required
@require_POST
def dispute_decline(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _render_dispute(request, pk=pk, bound={"decline": form}, status=400)
    try:
        dispute = services.dispute_decline(
            dispute=dispute,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        if _add_field_errors(form, exc):
            return _render_dispute(request, pk=pk, bound={"decline": form}, status=400)
        return redirect(dispute)
    messages.success(
        request,
        "You declined the dispute. A mediation agent will review both sides and propose a "
        f"resolution, typically by {local_when(dispute.current_deadline().due_at)}. The money "
        "stays in escrow meanwhile.",
    )
    return redirect(dispute)


@login_required
@require_POST
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach files to a dispute: the client's evidence while the dispute waits for them."""
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _render_dispute(request, pk=pk, bound={"evidence": form}, status=400)
    now = timezone.now()
    try:
        stored = _store_each(
            form.cleaned_data["files"],
            lambda upload: services.evidence_add(
                dispute=dispute,
                actor=request.user,
                file=upload,
                description=form.cleaned_data["description"],
                now=now,
            ),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        if _add_field_errors(form, exc, {"file": "files"}):
            return _render_dispute(request, pk=pk, bound={"evidence": form}, status=400)
        return redirect(dispute)
    names = ", ".join(f"“{e.name}”" for e in stored)
    messages.success(request, f"Added {_files_text(len(stored))} to the dispute: {names}.")
    return redirect(dispute)


@login_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a file out of a draft filing (step 2's Remove button)."""
    stored = selectors.evidence_get_for_user(user=request.user, pk=pk)
    if stored.dispute_id is None:
        raise Http404("Support case files cannot be removed.")
    dispute = selectors.dispute_get_for_user(user=request.user, pk=stored.dispute_id)
    try:
        services.evidence_remove(evidence=stored, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        if dispute.status == DStatus.DRAFT:
            return redirect("disputes:dispute-details", pk=dispute.pk)
        return redirect(dispute)
    messages.success(request, f"Removed “{stored.name}” from your draft.")
    return redirect("disputes:dispute-details", pk=dispute.pk)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Send an evidence file, as an attachment, to those who may read its case and to staff."""
    stored = selectors.evidence_get_for_user(user=request.user, pk=pk)
    return private_file_response(
        stored.file, filename=stored.name, content_type=stored.content_type
    )


# --- Support cases ------------------------------------------------------------------------------


def _render_support_new(request, milestone: Milestone, form: SupportCaseForm, status: int = 200):
    context = {"milestone": milestone, "contract": milestone.contract, "form": form}
    return render(request, "disputes/support_case_new.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def support_case_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask support for help with funded work the client neither pays nor ends (seed 000)."""
    milestone = contract_selectors.milestone_get_for_user(user=request.user, pk=pk)
    contract = milestone.contract
    if request.method == "GET":
        if contract.role_of(request.user) != "freelancer":
            messages.error(request, services.NotTheFreelancer.default_message)
            return redirect(contract)
        return _render_support_new(request, milestone, SupportCaseForm())

    form = SupportCaseForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return _render_support_new(request, milestone, form, status=400)
    try:
        case = services.support_case_open(
            milestone=milestone,
            actor=request.user,
            description=form.cleaned_data["description"],
            files=form.cleaned_data["files"],
            now=timezone.now(),
        )
    except DomainError as exc:
        messages.error(request, exc.message)
        if _add_field_errors(form, exc, {"file": "files"}):
            return _render_support_new(request, milestone, form, status=400)
        return redirect(contract)
    messages.success(
        request,
        f"Support case #{case.pk} opened. Our support team reviews what you sent and tells you "
        "here and by e-mail what happens next.",
    )
    return redirect(case)


@login_required
def support_case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.support_case_get_for_user(user=request.user, pk=pk)
    context = {
        "case": case,
        "milestone": case.milestone,
        "contract": case.milestone.contract,
        "files": list(selectors.support_case_evidence(case=case)),
    }
    return render(request, "disputes/support_case.html", context)
