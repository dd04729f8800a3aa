"""Browser pages for contracts and milestones: server-rendered, every form works without JavaScript.

Each action has its own URL, accepts only POST, finds its object through a selector that raises
404 for anyone who is not a party, calls exactly one service with the clock read here, and sends
the user back to the contract page with a message. A service's ``DomainError`` becomes an error
message (and, when it names fields, errors on the re-rendered form); nothing has changed then.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST

from core import audit, stamps
from core.actions import may_act
from core.errors import DomainError
from core.files import private_file_response
from core.formats import local_when
from core.forms import refusal_on_form
from core.money import money
from core.pagination import IdsFirstPaginator

from . import selectors, services
from .forms import (
    HistoryFilterForm,
    MilestoneForm,
    NewContractForm,
    ReleaseForm,
    SubmitWorkForm,
)
from .models import Contract, Milestone

MilestoneStatus = Milestone.Status

HISTORY_PAGE_SIZE = 20


# --- Extensions: what higher apps add to these pages -------------------------------------------

# Templates included at fixed places of the contract pages, by place. Higher apps (disputes)
# register theirs from AppConfig.ready(), so contracts shows their links and forms without
# importing them (DESIGN §6). Each template gets the page's context plus ``contract``, ``role``
# and, for the milestone places, ``milestone``.
EXTENSION_TEMPLATES: dict[str, list[str]] = {
    "contract_actions": [],  # the head of the contract page and of each history card
    "milestone_panels": [],  # the end of each milestone card on the contract page
    "milestone_links": [],  # the "Next step" cell of each milestone row in the history
}


@dataclass(frozen=True)
class NextStep:
    hint: str = ""
    your_turn: bool = False  # whether the step is this user's to take
    url: str = ""  # where to take it; the milestone itself when empty


# Each provider returns the next step of a milestone in a state its app owns, or None.
NextStepProvider = Callable[..., NextStep | None]
_next_step_providers: list[NextStepProvider] = []


def register_templates(place: str, *names: str) -> None:
    """Include the templates ``names`` at ``place`` (a key of EXTENSION_TEMPLATES)."""
    EXTENSION_TEMPLATES[place].extend(n for n in names if n not in EXTENSION_TEMPLATES[place])


def register_next_step(provider: NextStepProvider) -> NextStepProvider:
    """Ask ``provider(contract=, milestone=, role=)`` first for each milestone's next step."""
    if provider not in _next_step_providers:
        _next_step_providers.append(provider)
    return provider


# --- What each party does next ----------------------------------------------------------------

# (status, role) -> (hint, whether the step is this user's to take)
_NEXT_STEPS: dict[tuple[str, str], tuple[str, bool]] = {
    (MilestoneStatus.PENDING, "client"): ("Fund", True),
    (MilestoneStatus.PENDING, "freelancer"): ("Waiting for the client to fund", False),
    (MilestoneStatus.FUNDED, "client"): ("Waiting for the freelancer's work", False),
    (MilestoneStatus.FUNDED, "freelancer"): ("Submit work", True),
    (MilestoneStatus.SUBMITTED, "client"): ("Release", True),
    (MilestoneStatus.SUBMITTED, "freelancer"): ("Waiting for the client to release", False),
}


def next_step(*, contract: Contract, milestone: Milestone, role: str | None) -> NextStep:
    """Return the milestone's next step, as far as ``role`` is concerned."""
    if role is None:
        return NextStep()
    for provider in _next_step_providers:
        step = provider(contract=contract, milestone=milestone, role=role)
        if step is not None:
            return step
    if contract.status != Contract.Status.ACTIVE:
        return NextStep()
    return NextStep(*_NEXT_STEPS.get((milestone.status, role), ("", False)))


@dataclass
class MilestoneRow:
    milestone: Milestone
    hint: str
    your_turn: bool
    url: str = ""


@dataclass
class ContractRow:
    contract: Contract
    role: str
    other_party: object
    milestones: list[MilestoneRow]
    needs_action: bool = False

    @property
    def pending_count(self) -> int:
        return sum(1 for row in self.milestones if row.your_turn)


def _contract_row(contract: Contract, user) -> ContractRow:
    role = contract.role_of(user)
    can_act = may_act(user)
    return ContractRow(
        contract=contract,
        role=role,
        other_party=contract.freelancer if role == "client" else contract.client,
        milestones=[_milestone_row(contract, m, role, can_act) for m in contract.milestones.all()],
        needs_action=getattr(contract, "needs_action", False),
    )


def _milestone_row(
    contract: Contract, milestone: Milestone, role: str | None, can_act: bool
) -> MilestoneRow:
    """The milestone's next step; never this user's turn while they may not act."""
    step = next_step(contract=contract, milestone=milestone, role=role)
    return MilestoneRow(milestone, step.hint, step.your_turn and can_act, step.url)


# --- Pages ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryChoice:
    """One link of the history's filter bar: its label, count, value and whether it is on."""

    label: str
    count: int
    value: str
    current: bool

    @property
    def param(self) -> str | None:
        """The value in a link's query string (None drops the parameter: everything)."""
        return self.value or None


@login_required
def contract_history(request: HttpRequest) -> HttpResponse:
    """The user's contracts. The list is kept under the user's stamp (``core.stamps``): while
    nothing of theirs changed, asking again (the page polls itself) costs no query of it."""
    body = stamps.kept_html(request, "contracts:history", lambda csrf: _history_body(request))
    return render(request, "contracts/history.html", {"body": mark_safe(body)})


def _history_body(request: HttpRequest) -> str:
    form = HistoryFilterForm(
        request.GET, filters=selectors.HISTORY_FILTERS, roles=selectors.HISTORY_ROLES
    )
    chosen = form.choices()
    query = selectors.HistoryQuery(filter=chosen["filter"], role=chosen["role"], search=chosen["q"])
    now = timezone.now()
    reading = {
        "user": request.user,
        "now": now,
        "query": query,
        "waiting": selectors.contracts_waiting_for(user=request.user, now=now),
    }
    contracts = selectors.contract_history_for_user(**reading)
    counts = selectors.contract_history_counts(**reading)
    paginator = IdsFirstPaginator(contracts, HISTORY_PAGE_SIZE)
    paginator.count = counts[query.filter]  # the filter's count is the page's: no COUNT query
    page = paginator.get_page(request.GET.get("page"))
    filters = [
        HistoryChoice(label, counts[value], value, query.filter == value)
        for value, label in {"": "All", **selectors.HISTORY_FILTERS}.items()
    ]
    roles = [
        HistoryChoice(label, counts[f"role:{value}"], value, query.role == value)
        for value, label in {"": "Any role", **selectors.HISTORY_ROLES}.items()
    ]
    context = {
        "rows": [_contract_row(contract, request.user) for contract in page.object_list],
        "page": page,
        "form": form,
        "query": query,
        "filters": filters,
        "roles": roles,
        "extensions": EXTENSION_TEMPLATES,
    }
    return render_to_string("contracts/_history_body.html", context, request)


@dataclass
class MilestonePanel:
    milestone: Milestone
    hint: str
    your_turn: bool
    url: str = ""
    can_fund: bool = False
    release_form: ReleaseForm | None = None
    submit_form: SubmitWorkForm | None = None
    submissions: list = field(default_factory=list)

    @property
    def has_actions(self) -> bool:
        return bool(self.can_fund or self.release_form or self.submit_form)


def _panel(
    *, contract: Contract, milestone: Milestone, role: str | None, can_act: bool, bound: dict
) -> MilestonePanel:
    step = next_step(contract=contract, milestone=milestone, role=role)
    panel = MilestonePanel(
        milestone=milestone,
        hint=step.hint,
        your_turn=step.your_turn and can_act,
        url=step.url,
        submissions=list(milestone.submissions.all()),
    )
    if not can_act or contract.status != Contract.Status.ACTIVE:
        return panel
    status = milestone.status
    if role == "client":
        panel.can_fund = status == MilestoneStatus.PENDING
        if status in (MilestoneStatus.FUNDED, MilestoneStatus.SUBMITTED):
            panel.release_form = bound.get(("release", milestone.pk)) or ReleaseForm(
                auto_id=f"release-{milestone.pk}-%s",
                held=money(milestone.escrow_balance, contract.currency),
            )
    elif role == "freelancer" and status == MilestoneStatus.FUNDED:
        panel.submit_form = bound.get(("submit", milestone.pk)) or SubmitWorkForm(
            auto_id=f"submit-{milestone.pk}-%s"
        )
    return panel


def _render_detail(
    request: HttpRequest, *, pk: int, bound: dict | None = None, status: int = 200
) -> HttpResponse:
    """Render the contract page; ``bound`` holds forms to show with the user's input and errors."""
    bound = bound or {}
    contract = selectors.contract_detail_for_user(user=request.user, pk=pk)
    role = contract.role_of(request.user)
    can_act = may_act(request.user)
    panels = [
        _panel(contract=contract, milestone=m, role=role, can_act=can_act, bound=bound)
        for m in contract.milestones.all()
    ]
    milestone_form = None
    if can_act and role == "client" and contract.status == Contract.Status.ACTIVE:
        milestone_form = bound.get(("milestone", None)) or MilestoneForm(currency=contract.currency)
    context = {
        "contract": contract,
        "role": role,
        "other_party": contract.freelancer if role == "client" else contract.client,
        "panels": panels,
        "milestone_form": milestone_form,
        "total_escrow": sum((m.escrow_balance for m in contract.milestones.all()), Decimal(0)),
        "can_act": can_act,
        "extensions": EXTENSION_TEMPLATES,
        "activity": selectors.contract_activity(contract=contract),
    }
    return render(request, "contracts/detail.html", context, status=status)


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, pk=pk)


@login_required
def contract_new(request: HttpRequest) -> HttpResponse:
    form = NewContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(
                client=request.user,
                freelancer=form.cleaned_data["freelancer"],
                title=form.cleaned_data["title"],
                currency=form.cleaned_data["currency"],
                now=timezone.now(),
            )
        except DomainError as exc:
            if not refusal_on_form(form, exc):
                messages.error(request, exc.message)
        else:
            messages.success(
                request,
                f"Contract “{contract.title}” opened with {contract.freelancer}. "
                "Add its first milestone below.",
            )
            return redirect(contract)
    status = 400 if form.is_bound else 200
    return render(request, "contracts/new.html", {"form": form}, status=status)


# --- Actions ----------------------------------------------------------------------------------


def _failed(
    request: HttpRequest,
    exc: DomainError,
    *,
    contract_pk: int,
    form: forms.Form | None = None,
    key: tuple | None = None,
) -> HttpResponse:
    """Report a refused action once: on the re-rendered form when it names fields (at the field,
    or above the form's fields), else as a message after the redirect."""
    if form is not None and exc.fields:
        refusal_on_form(form, exc)
        return _render_detail(request, pk=contract_pk, bound={key: form}, status=400)
    messages.error(request, exc.message)
    return redirect("contracts:detail", pk=contract_pk)


def _invalid(request: HttpRequest, *, contract_pk: int, form: forms.Form, key: tuple):
    return _render_detail(request, pk=contract_pk, bound={key: form}, status=400)


@login_required
@require_POST
def milestone_new(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get_for_user(user=request.user, pk=pk)
    form = MilestoneForm(request.POST, currency=contract.currency)
    key = ("milestone", None)
    if not form.is_valid():
        return _invalid(request, contract_pk=contract.pk, form=form, key=key)
    try:
        milestone = services.milestone_create(
            contract=contract,
            actor=request.user,
            title=form.cleaned_data["title"],
            description=form.cleaned_data["description"],
            amount=form.cleaned_data["amount"],
            due_date=form.cleaned_data["due_date"],
            now=timezone.now(),
        )
    except DomainError as exc:
        return _failed(request, exc, contract_pk=contract.pk, form=form, key=key)
    messages.success(
        request,
        f"Added milestone “{milestone.title}” of {money(milestone.amount, contract.currency)}. "
        "Fund it to let the work start.",
    )
    return redirect(contract)


@login_required
@require_POST
def milestone_fund(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
    contract = milestone.contract
    try:
        services.milestone_fund(milestone=milestone, actor=request.user, now=timezone.now())
    except DomainError as exc:
        return _failed(request, exc, contract_pk=contract.pk)
    messages.success(
        request,
        f"Funded {money(milestone.amount, contract.currency)} into escrow for “{milestone.title}”.",
    )
    return redirect(contract)


@login_required
@require_POST
def milestone_submit(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
    contract = milestone.contract
    form = SubmitWorkForm(request.POST, request.FILES, auto_id=f"submit-{pk}-%s")
    key = ("submit", milestone.pk)
    if not form.is_valid():
        return _invalid(request, contract_pk=contract.pk, form=form, key=key)
    try:
        submission = services.milestone_submit(
            milestone=milestone,
            actor=request.user,
            message=form.cleaned_data["message"],
            files=form.cleaned_data["files"],
            now=timezone.now(),
        )
    except DomainError as exc:
        return _failed(request, exc, contract_pk=contract.pk, form=form, key=key)
    count = len(form.cleaned_data["files"])
    attached = f" with {count} file{'s' if count != 1 else ''}" if count else ""
    text = f"Submitted your work for “{milestone.title}”{attached}."
    due_at = submission.milestone.auto_release_due_at
    if due_at is not None:
        text += (
            f" Unless {contract.client} releases the payment or ends the contract first, it is "
            f"released to you automatically on {local_when(due_at)}."
        )
    messages.success(request, text)
    return redirect(contract)


@login_required
@require_POST
def milestone_release(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = selectors.milestone_get_for_user(user=request.user, pk=pk)
    contract = milestone.contract
    form = ReleaseForm(
        request.POST,
        auto_id=f"release-{pk}-%s",
        held=money(milestone.escrow_balance, contract.currency),
    )
    key = ("release", milestone.pk)
    if not form.is_valid():
        return _invalid(request, contract_pk=contract.pk, form=form, key=key)
    try:
        movement = services.milestone_release(
            milestone=milestone,
            actor=request.user,
            amount=form.cleaned_data["amount"].strip() or None,
            now=timezone.now(),
        )
    except DomainError as exc:
        return _failed(request, exc, contract_pk=contract.pk, form=form, key=key)
    released = sum(
        (entry.amount for entry in movement.entries.all() if entry.amount > 0), Decimal(0)
    )
    left = selectors.milestone_get_for_user(user=request.user, pk=pk).escrow_balance
    text = (
        f"Released {money(released, contract.currency)} to {contract.freelancer} "
        f"for “{milestone.title}”."
    )
    if left:
        text += f" {money(left, contract.currency)} stays in escrow."
    messages.success(request, text)
    return redirect(contract)


# --- Files ------------------------------------------------------------------------------------


@login_required
def submission_file(request: HttpRequest, pk: int) -> FileResponse:
    """Send a submitted file, as an attachment, to the contract's parties and staff only."""
    stored = selectors.submission_file_get_for_user(user=request.user, pk=pk)
    audit.read(
        user=request.user,
        obj=stored,
        what=audit.SUBMITTED_WORK,
        contract=stored.submission.milestone.contract,
        via="a download",
        detail=f"“{stored.name}” of {stored.submission.milestone}",
    )
    return private_file_response(
        stored.file, filename=stored.download_name, content_type=stored.content_type
    )
