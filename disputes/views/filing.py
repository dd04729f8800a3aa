"""Filing a dispute: the guided form.

Filing a dispute is a guided form in the order of the help article (seed 000), one page per step,
each working without JavaScript: feedback on the client (which starts the draft), the details and
evidence, the amount to review, then a review page that submits. Once submitted, every step
refuses with the service's FilingLocked and sends the freelancer to See Dispute.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from core.actions import atomic
from core.errors import DomainError
from core.formats import local_when
from core.money import format_amount, money

from .. import advice, selectors, services
from ..forms import AmountForm, DetailsForm, FeedbackForm
from ..models import Dispute, RefundRequest
from .display import _can_see_dispute, _dispute_of, deadline_view
from .edges import _add_field_errors, _files_text, _role, _store_each

RRStatus = RefundRequest.Status


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
    named = form is not None and exc.fields and _add_field_errors(form, exc, aliases)
    if named and render_step is not None:
        return render_step()
    messages.error(request, exc.message)
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
        "advice": advice.draft_advice(refund=refund, role="freelancer"),
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
        return render_step(form, status=400)
    now = timezone.now()
    files = form.cleaned_data["files"]
    try:
        with atomic():
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
