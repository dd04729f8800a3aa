"""The parties' settlement offers in the browser: the panel on See Dispute, and its forms.

The panel is registered with See Dispute from ``OffersConfig.ready`` (disputes never imports this
app). To a party of a submitted, open dispute it shows the "Offer a settlement" form, the other
side's open offer with Accept, Decline and Counter (a counter-offer is simply a new offer of
one's own), one's own open offer with Withdraw, and the history; to staff, the history. It
costs one query, and none on a draft. Every action is a plain POST form to its own URL calling
one service, so the page works without JavaScript; a refusal is an error message and changes
nothing.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.formats import local_when
from core.money import money
from disputes import selectors as dispute_selectors
from disputes.forms import period_text
from disputes.models import Dispute
from disputes.views import DisputePanel, render_dispute
from disputes.views.edges import _add_field_errors

from . import selectors, services
from .deadlines import OFFER_RESPONSE
from .forms import OfferForm, ReasonForm
from .models import SETTLEABLE, Offer

DStatus = Dispute.Status
BEFORE_SUBMISSION = frozenset({DStatus.DRAFT, DStatus.LAPSED})
PARTIES = ("freelancer", "client")


def _offer_form(dispute: Dispute, data=None) -> OfferForm:
    request = dispute.refund_request
    return OfferForm(
        data,
        currency=request.currency,
        total=money(request.amount, request.currency),
        auto_id="offer-%s",
    )


def offers_panel(
    *, dispute: Dispute, user, role: str | None, now: datetime, bound: dict, **_
) -> DisputePanel | None:
    """See Dispute's "Settlement offers" card, from submission on."""
    if dispute.status in BEFORE_SUBMISSION:
        return None
    offers = list(selectors.dispute_offers(dispute=dispute).select_related("made_by"))
    is_party = role in PARTIES
    if not offers and not (is_party and dispute.status in SETTLEABLE):
        return None
    can_act = is_party and dispute.status in SETTLEABLE and not user.is_suspended
    # An open offer past its deadline has lapsed, though the sweep has not written it yet.
    lapsed = {
        o.pk: OFFER_RESPONSE.due_at(o) for o in offers if OFFER_RESPONSE.has_passed(o, now=now)
    }
    live = [o for o in offers if o.status == Offer.Status.OPEN and o.pk not in lapsed]
    theirs = next((o for o in live if o.by != role), None) if is_party else None
    mine = next((o for o in live if o.by == role), None) if is_party else None
    return DisputePanel(
        template="offers/_panel.html",
        context={
            "offers": offers[::-1],
            "history": [(o, lapsed.get(o.pk)) for o in offers[::-1]],
            "can_offer": can_act,
            "theirs": theirs if can_act else None,
            "mine": mine if can_act else None,
            "form": bound.get("offer") or (_offer_form(dispute) if can_act else None),
            "decline_form": bound.get("offer_decline") or ReasonForm(auto_id="decline-%s"),
            "withdraw_form": bound.get("offer_withdraw") or ReasonForm(auto_id="withdraw-%s"),
            "role": role,
            "period": period_text(settings.OFFER_RESPONSE_PERIOD),
        },
    )


@login_required
@require_POST
def offer_make(request: HttpRequest, pk: int) -> HttpResponse:
    dispute = dispute_selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = _offer_form(dispute, request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors in your offer.")
        return render_dispute(request, pk=pk, bound={"offer": form}, status=400)
    try:
        offer = services.offer_make(
            dispute=dispute,
            actor=request.user,
            to_freelancer=form.cleaned_data["to_freelancer"],
            to_client=form.cleaned_data["to_client"],
            message=form.cleaned_data["message"],
            now=timezone.now(),
        )
    except DomainError as exc:
        # Shown once: at the fields when they show it, else as a message on the page.
        if _add_field_errors(form, exc):
            return render_dispute(request, pk=pk, bound={"offer": form}, status=400)
        messages.error(request, exc.message)
        return redirect(_anchor(dispute))
    other = "client" if offer.by == "freelancer" else "freelancer"
    messages.success(
        request,
        f"Your offer is sent: {_split(offer)}. If the {other} accepts it by "
        f"{local_when(offer.response_due_at)}, the money moves at once and the dispute closes.",
    )
    return redirect(_anchor(dispute))


@login_required
@require_POST
def offer_accept(request: HttpRequest, pk: int) -> HttpResponse:
    offer = selectors.offer_get_for_user(user=request.user, pk=pk)
    try:
        offer = services.offer_accept(offer=offer, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_anchor(offer.dispute))
    messages.success(
        request,
        f"You accepted the offer. The money moved: {_split(offer)}. The dispute is closed as "
        "settled.",
    )
    return redirect(_anchor(offer.dispute))


@login_required
@require_POST
def offer_decline(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, "decline", services.offer_decline, "You declined the offer.")


@login_required
@require_POST
def offer_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    return _answer(request, pk, "withdraw", services.offer_withdraw, "You withdrew your offer.")


def _answer(request: HttpRequest, pk: int, name: str, service, done: str) -> HttpResponse:
    offer = selectors.offer_get_for_user(user=request.user, pk=pk)
    form = ReasonForm(request.POST, auto_id=f"{name}-%s")
    if not form.is_valid():
        messages.error(request, "Please correct the reason.")
        bound = {f"offer_{name}": form}
        return render_dispute(request, pk=offer.dispute_id, bound=bound, status=400)
    try:
        service(
            offer=offer, actor=request.user, reason=form.cleaned_data["reason"], now=timezone.now()
        )
    except DomainError as exc:
        if _add_field_errors(form, exc):
            bound = {f"offer_{name}": form}
            return render_dispute(request, pk=offer.dispute_id, bound=bound, status=400)
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect(_anchor(offer.dispute))


def _split(offer: Offer) -> str:
    return (
        f"{money(offer.to_freelancer, offer.currency)} to the freelancer and "
        f"{money(offer.to_client, offer.currency)} to the client"
    )


def _anchor(dispute: Dispute) -> str:
    return f"{dispute.get_absolute_url()}#offers"
