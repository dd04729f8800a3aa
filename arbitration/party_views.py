"""The parties' side of arbitration in the browser, on See Dispute.

After a Notice of Non-Resolution the panel shows the notice, the window's deadline, the fee each
party pays and both parties' fee status (DESIGN §4: visible to both sides), with "Agree to
arbitration and pay" for a party who has not paid. Once both paid, it shows the case: when it
opened, the arbitrator, the evidence requests to either party, an upload form for the party asked
while its request is open, and the final award once issued. Registered with See Dispute from
``ArbitrationConfig.ready``; it costs two queries at most, none before the window.

Each action is its own POST URL calling one service, with the clock read here; a refusal becomes
an error message (and errors on the re-rendered upload form) and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from contracts.views import NextStep
from core import deadlines
from core.errors import DomainError
from core.forms import BrowserForm, refusal_on_form
from core.money import money
from disputes import advice
from disputes import selectors as dispute_selectors
from disputes import services as dispute_services
from disputes import views as dispute_views
from disputes.forms import files_help_text
from disputes.models import Dispute, TimelineEvent

from . import services
from .models import ArbitrationCase, ArbitrationFee, EvidenceRequest, Party

DStatus = Dispute.Status
PARTIES = (Party.FREELANCER, Party.CLIENT)
# The dispute reached the arbitration window: it is in it or in a case, or it closed at the
# window's end or with an award.
WINDOW_AND_AFTER = frozenset({DStatus.ARBITRATION_WINDOW, DStatus.IN_ARBITRATION})
OUTCOMES_AFTER_WINDOW = frozenset(
    {
        Dispute.Outcome.NO_ARBITRATION,
        Dispute.Outcome.ONLY_FREELANCER_PAID,
        Dispute.Outcome.ONLY_CLIENT_PAID,
        Dispute.Outcome.AWARDED,
    }
)


def _other(party: str) -> str:
    return Party.CLIENT if party == Party.FREELANCER else Party.FREELANCER


def reached_the_window(dispute: Dispute) -> bool:
    return dispute.status in WINDOW_AND_AFTER or (
        dispute.status == DStatus.CLOSED and dispute.outcome in OUTCOMES_AFTER_WINDOW
    )


class RequestedEvidenceForm(BrowserForm):
    file = forms.FileField(label="File", error_messages={"required": "Choose a file."})
    description = forms.CharField(
        label="What this file shows",
        max_length=500,
        required=False,
        help_text="Optional, up to 500 characters. The arbitrator and the other party see it.",
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "requested-evidence-%s")
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = files_help_text()


# --- The panel on See Dispute ---------------------------------------------------------------------


@dataclass(frozen=True)
class FeeStatus:
    party: str
    user: object
    fee: ArbitrationFee | None
    you: bool


@dataclass(frozen=True)
class RequestRow:
    request: EvidenceRequest
    user: object
    you: bool
    is_open: bool  # open and still before its due date: uploads are accepted

    @property
    def status_label(self) -> str:
        if self.is_open:
            return "Open"
        if self.request.status == EvidenceRequest.Status.OPEN:
            return "Due date passed"
        return "Closed"


def arbitration_panel(
    *, dispute: Dispute, user, role: str | None, events, bound: dict, now: datetime, **_
) -> dispute_views.DisputePanel | None:
    """See Dispute's "Notice of Non-Resolution" or "Arbitration" card, from the notice on."""
    if not reached_the_window(dispute):
        return None
    contract = dispute.refund_request.contract
    request = dispute.refund_request
    # A case opens only once both parties paid, so the fee rows lead to the case, its award and
    # the arbitrator in the same query.
    fees = {
        fee.party: fee
        for fee in ArbitrationFee.objects.filter(dispute=dispute)
        .select_related("dispute__arbitrator", "dispute__arbitration_case__award__arbitrator")
        .order_by("pk")
    }
    case: ArbitrationCase | None = None
    arbitrator = None
    for fee in fees.values():
        case = getattr(fee.dispute, "arbitration_case", None)
        arbitrator = fee.dispute.arbitrator
    party = role if role in PARTIES else None
    can_act = party is not None and not user.is_suspended
    window_open = dispute.status == DStatus.ARBITRATION_WINDOW and now < dispute.response_due_at
    fee = (
        fees[party].amount
        if party in fees
        else services.arbitration_fee(amount=request.amount, currency=request.currency)
    )
    context = {
        "fees": [
            FeeStatus(party=p, user=getattr(contract, p), fee=fees.get(p), you=party == p)
            for p in PARTIES
        ],
        "fee": fee,
        "advice": advice.dispute_advice(dispute=dispute, role=party, paid=fees.keys(), fee=fee),
        "notice": next(
            (e for e in reversed(events) if e.kind == TimelineEvent.Kind.NON_RESOLUTION), None
        ),
        "window_open": window_open,
        "can_pay": window_open and can_act and party not in fees,
        "you_paid": fees.get(party) if party else None,
        "other_user": getattr(contract, _other(party)) if party else None,
        "case": case,
    }
    if case is None:
        return dispute_views.DisputePanel("arbitration/party/_window_panel.html", context)

    requests = [
        RequestRow(
            request=r,
            user=getattr(contract, r.party),
            you=party == r.party,
            is_open=r.status == EvidenceRequest.Status.OPEN and now < r.due_at,
        )
        for r in EvidenceRequest.objects.filter(case=case).order_by("requested_at", "pk")
    ]
    open_rows = sorted((r for r in requests if r.is_open), key=lambda r: r.request.due_at)
    yours = [r for r in open_rows if r.you]
    context.update(
        arbitrator=arbitrator,
        award=getattr(case, "award", None),
        requests=requests,
        upload_form=(
            (bound.get("requested_evidence") or RequestedEvidenceForm())
            if yours and can_act and dispute.status == DStatus.IN_ARBITRATION
            else None
        ),
    )
    deadline = None
    if open_rows and dispute.status == DStatus.IN_ARBITRATION:
        first = (yours or open_rows)[0].request
        deadline = deadlines.current(first).for_party(
            first.party, f"The {first.party}'s time to send the evidence the arbitrator asked for"
        )
    return dispute_views.DisputePanel("arbitration/party/_case_panel.html", context, deadline)


def window_next_step(*, dispute: Dispute, role: str) -> NextStep | None:
    """The contract pages' hint while the arbitration window is open."""
    if timezone.now() >= dispute.response_due_at:
        return None  # the sweep closes the window within minutes; the stage's name says enough
    url = f"{dispute.get_absolute_url()}#arbitration"
    # The fees and the case are prefetched for the contract pages (see apps.py): no query here.
    if any(fee.party == role for fee in dispute.arbitration_fees.all()):
        return NextStep(f"Waiting for the {_other(role)} to agree to arbitration", False, url)
    return NextStep("Pay the arbitration fee, or let the window close", True, url)


def case_next_step(*, dispute: Dispute, role: str) -> NextStep | None:
    """The contract pages' hint while the arbitration case is open."""
    url = f"{dispute.get_absolute_url()}#arbitration"
    now = timezone.now()
    case = getattr(dispute, "arbitration_case", None)
    asked = case is not None and any(
        r.party == role and r.status == EvidenceRequest.Status.OPEN and r.due_at > now
        for r in case.evidence_requests.all()
    )
    if asked:
        return NextStep("Upload the evidence the arbitrator asked for", True, url)
    return NextStep("Waiting for the arbitrator's award", False, url)


# --- Actions ----------------------------------------------------------------------------------


@login_required
@require_POST
def fee_pay(request: HttpRequest, pk: int) -> HttpResponse:
    """Agree to binding arbitration and pay this party's share of the fee."""
    dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
    try:
        fee = services.arbitration_fee_pay(dispute=dispute, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(dispute)
    dispute.refresh_from_db(fields=["status", "response_due_at"])
    paid = f"You agreed to arbitration and paid your fee of {money(fee.amount, fee.currency)}."
    if dispute.status == DStatus.IN_ARBITRATION:
        messages.success(
            request,
            f"{paid} Both parties have now paid: the arbitration case is open. An arbitrator "
            "reviews it, may ask either of you for more evidence, and issues a final, binding "
            "award.",
        )
    else:
        summary = advice.dispute_advice(dispute=dispute, role=fee.party, paid={fee.party}).summary
        messages.success(request, f"{paid} {summary.removeprefix('You paid your fee. ')}")
    return redirect(dispute)


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a file the arbitrator asked this party for, while the request is open."""
    dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = RequestedEvidenceForm(request.POST, request.FILES)

    def show_errors() -> HttpResponse:
        return dispute_views.render_dispute(
            request, pk=pk, bound={"requested_evidence": form}, status=400
        )

    if not form.is_valid():
        return show_errors()
    try:
        evidence = dispute_services.evidence_add(
            dispute=dispute,
            actor=request.user,
            file=form.cleaned_data["file"],
            description=form.cleaned_data["description"],
            now=timezone.now(),
        )
    except DomainError as exc:
        if refusal_on_form(form, exc):
            return show_errors()
        messages.error(request, exc.message)
        return redirect(dispute)
    messages.success(
        request,
        f"Sent “{evidence.name}” to the arbitrator; it is on the dispute's evidence and timeline "
        "for both parties.",
    )
    return redirect(dispute)
