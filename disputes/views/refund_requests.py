"""A refund request's page, and the freelancer's acceptance."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.money import money

from .. import advice, selectors, services, staff_reads
from ..models import Dispute, RefundRequest
from .display import _can_see_dispute, _dispute_of, _timeline, deadline_view
from .edges import _role
from .filing import resume_url
from .live import state_version

RRStatus = RefundRequest.Status
DStatus = Dispute.Status


@login_required
def refund_request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    refund = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    contract = refund.contract
    role = _role(contract, request.user)
    dispute = _dispute_of(refund)
    now = timezone.now()
    is_open = refund.status == RRStatus.OPEN
    draft = dispute if dispute is not None and dispute.status == DStatus.DRAFT else None
    events = list(
        selectors.timeline_for_viewer(refund_request=refund, user=request.user, role=role)
    )
    staff_reads.case_read(
        user=request.user, case=refund, via="the refund request page", events=events
    )
    context = {
        "refund": refund,
        "contract": contract,
        "milestone": refund.milestone,
        "role": role,
        "advice": advice.refund_request_advice(refund=refund, role=role),
        "dispute": dispute if _can_see_dispute(dispute, user=request.user, role=role) else None,
        "draft": draft if role == "freelancer" else None,
        "resume_url": resume_url(draft) if draft else "",
        "deadline": deadline_view(refund.current_deadline(), now=now, role=role),
        "can_answer": is_open and role == "freelancer" and not request.user.is_suspended,
        "events": _timeline(events, refund.currency),
        "live_version": state_version(refund, events),
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
