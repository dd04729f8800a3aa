"""See Dispute, and the client's answer to a dispute: accept or decline.

The page shows the dispute, both parties' evidence, the timeline the viewer may read and the
panels later stages register (``extensions``); their actions re-render it with their form's
errors through :func:`render_dispute`.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core import stamps
from core.errors import DomainError
from core.formats import local_when
from core.money import money

from .. import advice, selectors, services, staff_reads
from ..forms import DeclineForm, EvidenceForm
from ..models import Dispute
from .display import _timeline, deadline_view
from .edges import _add_field_errors, _role
from .extensions import dispute_panels
from .filing import resume_url
from .live import state_version
from .messages import thread_view

DStatus = Dispute.Status


def _render_dispute(
    request: HttpRequest, *, pk: int, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """Render See Dispute; ``bound`` holds forms to show with the user's input and errors.

    A party's page, asked for again while nothing of theirs changed, is kept under their stamp
    (``core.stamps``); staff's reads are on the record, each of them.
    """
    if bound or request.method != "GET" or staff_reads.reads_are_recorded(request.user):
        body = _dispute_body(request, pk=pk, bound=bound or {})
    else:
        body = stamps.kept_html(
            request, "disputes:detail", lambda csrf: _dispute_body(request, pk=pk, csrf=csrf)
        )
    return render(
        request, "disputes/dispute.html", {"pk": pk, "body": mark_safe(body)}, status=status
    )


def _dispute_body(
    request: HttpRequest, *, pk: int, bound: dict | None = None, csrf: str | None = None
) -> str:
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
    staff_reads.case_read(user=user, case=dispute, via="the dispute page", events=events)
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
        "advice": advice.dispute_advice(dispute=dispute, role=role),
        "deadline": deadline_view(deadline, now=now, role=role),
        "panels": panels,
        "feedback_visible": (
            role == "freelancer"
            or dispute.feedback_is_visible_to_client
            or selectors.reads_as_staff(user, contract)
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
        "thread": thread_view(dispute=dispute, user=user, bound=bound.get("message"), now=now),
        "live_version": state_version(dispute, events),
    }
    if csrf is not None:
        context["csrf_token"] = csrf
    return render_to_string("disputes/_dispute_body.html", context, request)


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
        return _render_dispute(request, pk=pk, bound={"decline": form}, status=400)
    try:
        dispute = services.dispute_decline(
            dispute=dispute,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            now=timezone.now(),
        )
    except DomainError as exc:
        if _add_field_errors(form, exc):
            return _render_dispute(request, pk=pk, bound={"decline": form}, status=400)
        messages.error(request, exc.message)
        return redirect(dispute)
    messages.success(
        request,
        "You declined the dispute. A mediation agent will review both sides and propose a "
        f"resolution, typically by {local_when(dispute.current_deadline().due_at)}. The money "
        "stays in escrow meanwhile.",
    )
    return redirect(dispute)
