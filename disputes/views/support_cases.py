"""Support cases: the freelancer asks for help with funded work; the page of a case."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from contracts import selectors as contract_selectors
from contracts.models import Milestone
from core.errors import DomainError

from .. import selectors, services, staff_reads
from ..forms import SupportCaseForm
from .edges import _add_field_errors


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
        if _add_field_errors(form, exc, {"file": "files"}):
            return _render_support_new(request, milestone, form, status=400)
        messages.error(request, exc.message)
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
    staff_reads.case_read(user=request.user, case=case, via="the support case page")
    context = {
        "case": case,
        "milestone": case.milestone,
        "contract": case.milestone.contract,
        "files": list(selectors.support_case_evidence(case=case)),
    }
    return render(request, "disputes/support_case.html", context)
