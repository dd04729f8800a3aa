"""Ending a contract: the client's form of what to pay, and the refund requests it opens."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_http_methods

from contracts import selectors as contract_selectors
from contracts.models import Contract, Milestone
from core.errors import DomainError
from core.formats import local_when
from core.money import money

from .. import services
from ..forms import EndContractForm
from ..models import RefundRequest
from .edges import _add_field_errors


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
        return _render_end(request, contract, form, status=400)
    try:
        requests = services.contract_end(
            contract=contract, actor=request.user, payments=form.payments(), now=timezone.now()
        )
    except DomainError as exc:
        aliases = {name: form.service_field(name) or name for name in exc.fields}
        if _add_field_errors(form, exc, aliases):
            return _render_end(request, contract, form, status=400)
        messages.error(request, exc.message)
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
