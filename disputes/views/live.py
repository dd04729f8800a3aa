"""Pages that follow their deadline: the status and deadline card each open page asks for again.

See Dispute and See Request poll a small URL every ``LIVE_POLL_SECONDS`` (htmx, no script of
their own), carrying the version of the state the page was rendered from. The answer is the
deadline card, fresh (whether its time is up), with the status badge (and See Dispute's stage
notice) swapped in out of band; when the state moved on since the page was loaded (a deadline
acted, the other party answered), it also says so, with a link to reload the page for what the
viewer may do now. Without JavaScript nothing polls, and a reload shows the same.

A poll is a read of what the page shows already: it records no staff read of the case.
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from .. import advice, selectors
from ..models import Dispute, RefundRequest, TimelineEvent
from .display import _dispute_of, deadline_view
from .edges import _role
from .extensions import dispute_panels
from .filing import resume_url

VERSION = re.compile(r"[A-Z_]+(?:\.[A-Z_]+)*-\d+")


def state_version(row: Dispute | RefundRequest, events: list[TimelineEvent]) -> str:
    """What a page was rendered from: the row's status and the newest event the viewer sees."""
    rows = [row]
    if isinstance(row, RefundRequest):
        dispute = _dispute_of(row)
        rows += [dispute] if dispute is not None else []
    statuses = ".".join(r.status for r in rows)
    return f"{statuses}-{max((event.pk for event in events), default=0)}"


def _asked_version(request: HttpRequest) -> str:
    asked = request.GET.get("v", "")
    return asked if VERSION.fullmatch(asked) else ""


@login_required
@require_GET
def dispute_live(request: HttpRequest, pk: int) -> HttpResponse:
    """See Dispute's deadline card, status and stage notice, as they are now."""
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    refund = dispute.refund_request
    contract = refund.contract
    role = _role(contract, request.user)
    now = timezone.now()
    events = list(
        selectors.timeline_for_viewer(refund_request=refund, user=request.user, role=role)
    )
    panels = dispute_panels(
        dispute=dispute, user=request.user, role=role, events=events, bound={}, now=now
    )
    deadline = next((p.deadline for p in panels if p.deadline), None) or dispute.current_deadline()
    asked = _asked_version(request)
    context = {
        "dispute": dispute,
        "refund": refund,
        "contract": contract,
        "role": role,
        "deadline": deadline_view(deadline, now=now, role=role),
        "advice": advice.dispute_advice(dispute=dispute, role=role),
        "resume_url": (
            resume_url(dispute) if role == "freelancer" and dispute.status == "DRAFT" else ""
        ),
        "live_version": asked,
        "moved": asked != state_version(dispute, events),
    }
    return render(request, "disputes/_dispute_live_response.html", context)


@login_required
@require_GET
def refund_request_live(request: HttpRequest, pk: int) -> HttpResponse:
    """See Request's deadline card and status, as they are now."""
    refund = selectors.refund_request_get_for_user(user=request.user, pk=pk)
    role = _role(refund.contract, request.user)
    events = list(
        selectors.timeline_for_viewer(refund_request=refund, user=request.user, role=role)
    )
    asked = _asked_version(request)
    context = {
        "refund": refund,
        "deadline": deadline_view(refund.current_deadline(), now=timezone.now(), role=role),
        "live_version": asked,
        "moved": asked != state_version(refund, events),
    }
    return render(request, "disputes/_refund_live_response.html", context)
