"""Arbitration: the fee window after a Notice of Non-Resolution, cases, evidence requests and
the final award."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings

from accounts.models import User
from accounts.services import Message, notifications_send
from contracts import ledger
from contracts.models import Account, LedgerTransaction
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput, NotAnArbitrator
from core.money import format_amount, money, quantum
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation.services import parse_split
from offers import services as offers

from .models import (
    ArbitrationCase,
    ArbitrationFee,
    Award,
    CaseNotOpen,
    EvidenceRequest,
    FeeAlreadyPaid,
    Party,
)

DStatus = Dispute.Status
Kind = TimelineEvent.Kind

__all__ = ["CaseNotOpen", "FeeAlreadyPaid", "NotAnArbitrator"]


def arbitration_fee(*, amount: Decimal, currency: str) -> Decimal:
    """Each party's fee: ARBITRATION_FEE_FIXED plus ARBITRATION_FEE_PERCENT of R, rounded down."""
    fee = Decimal(settings.ARBITRATION_FEE_FIXED) + amount * Decimal(
        settings.ARBITRATION_FEE_PERCENT
    ) / Decimal(100)
    return fee.quantize(quantum(currency), rounding=ROUND_DOWN)


# --- The window: agreeing to arbitration and paying the fee --------------------------------


@service
def arbitration_fee_pay(*, dispute: Dispute, actor: User, now: datetime) -> ArbitrationFee:
    """A party agrees to binding arbitration and pays its share of the fee.

    The second payment opens the case at once; there is nothing left to wait for.
    """
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    party = Dispute.lifecycle.check("pay_fee", dispute, user=actor, now=now)
    request = dispute.refund_request
    amount = arbitration_fee(amount=request.amount, currency=request.currency)
    funding = ledger.account_get_or_create(
        kind=Account.Kind.FUNDING, currency=request.currency, owner=actor, now=now
    )
    platform = ledger.account_get_or_create(
        kind=Account.Kind.PLATFORM_FEES, currency=request.currency, now=now
    )
    payment = ledger.post(
        kind=LedgerTransaction.Kind.FEE,
        currency=request.currency,
        legs=[ledger.Leg(funding, -amount), ledger.Leg(platform, amount)],
        memo=f"Arbitration fee of the {party}, dispute #{dispute.pk}",
        milestone=dispute.milestone,
        created_by=actor,
        now=now,
    )
    fee = ArbitrationFee.objects.create(
        dispute=dispute,
        party=party,
        payer=actor,
        amount=amount,
        currency=request.currency,
        paid_at=now,
        payment=payment,
    )
    both_paid = ArbitrationFee.objects.filter(dispute=dispute).count() == 2
    other = "client" if party == "freelancer" else "freelancer"
    contract = request.contract
    perform(
        Dispute.lifecycle,
        "pay_fee",
        dispute,
        user=actor,
        now=now,
        checked=True,
        event=Event(
            Kind.FEE_PAID,
            note=f"The {party} agreed to arbitration and paid its fee of "
            f"{money(amount, request.currency)}.",
            amounts={"fee": format_amount(amount, request.currency)},
        ),
        notify=(
            ()
            if both_paid
            else [
                Message(
                    user_id=getattr(contract, f"{other}_id"),
                    kind="arbitration_fee_paid",
                    title=f"The {party} paid for arbitration on “{contract.title}”",
                    body=(
                        f"Pay your share of {money(amount, request.currency)} by "
                        f"{deadlines.when(dispute.response_due_at)} to take part. If you do "
                        f"not, the {party} receives the {money(request.amount, request.currency)}"
                        " in dispute."
                    ),
                    url=dispute.get_absolute_url(),
                )
            ]
        ),
    )
    if both_paid:
        _open_cases([dispute], now=now)
    return fee


def _open_cases(rows: Iterable[Dispute], *, now: datetime) -> None:
    rows = list(rows)
    ArbitrationCase.objects.bulk_create(
        [ArbitrationCase(dispute=dispute, opened_at=now) for dispute in rows]
    )
    disputes.disputes_advance(
        advances=[
            disputes.Advance(
                dispute=dispute,
                note="Both parties paid: an arbitrator takes the case and issues a final award.",
                notify_body=(
                    "Both of you agreed to binding arbitration. An arbitrator will review the "
                    "case, may ask either of you for more evidence, and issues a final award "
                    "that cannot be appealed."
                ),
            )
            for dispute in rows
        ],
        action="open_case",
        kind=Kind.ARBITRATION_OPENED,
        actor=None,
        now=now,
        notify_title="Arbitration opened",
    )


def arbitration_windows_close(rows: list[Dispute], *, now: datetime) -> None:
    """The window's deadline: only one party paid, R goes to it with its fee back; neither, R
    is refunded to the client; both (if not opened already), the case opens."""
    fees: dict[int, list[ArbitrationFee]] = {}
    for fee in (
        ArbitrationFee.objects.select_for_update(of=("self",))
        .filter(dispute__in=rows)
        .order_by("pk")
    ):
        fees.setdefault(fee.dispute_id, []).append(fee)

    _open_cases([d for d in rows if len(fees.get(d.pk, [])) == 2], now=now)
    for party, outcome in (
        (Party.FREELANCER, Dispute.Outcome.ONLY_FREELANCER_PAID),
        (Party.CLIENT, Dispute.Outcome.ONLY_CLIENT_PAID),
    ):
        won = [d for d in rows if [f.party for f in fees.get(d.pk, [])] == [party]]
        if not won:
            continue
        _refund_fees([fees[d.pk][0] for d in won], now=now)
        amount = {d.pk: d.refund_request.amount for d in won}
        disputes.disputes_close(
            closings=[
                disputes.Closing(
                    dispute=d,
                    to_freelancer=amount[d.pk] if party == Party.FREELANCER else Decimal(0),
                    to_client=amount[d.pk] if party == Party.CLIENT else Decimal(0),
                )
                for d in won
            ],
            action="close_window",
            outcome=outcome,
            event_kind=Kind.ARBITRATION_DEFAULT,
            actor=None,
            why=f"Only the {party} agreed to arbitration and paid its fee, so the {party} "
            "receives the amount in dispute and its fee back.",
            now=now,
        )
    unpaid = [d for d in rows if not fees.get(d.pk)]
    disputes.disputes_close(
        closings=[
            disputes.Closing(dispute=d, to_freelancer=Decimal(0), to_client=d.refund_request.amount)
            for d in unpaid
        ],
        action="close_window",
        outcome=Dispute.Outcome.NO_ARBITRATION,
        event_kind=Kind.ARBITRATION_LAPSED,
        actor=None,
        why="Neither party agreed to arbitration in time, so the amount in dispute is "
        "refunded to the client.",
        now=now,
    )


def _refund_fees(fees: list[ArbitrationFee], *, now: datetime) -> None:
    funding: dict[tuple[str, int], Account] = {}
    platform: dict[str, Account] = {}
    for currency in sorted({fee.currency for fee in fees}):
        payers = {fee.payer_id for fee in fees if fee.currency == currency}
        accounts = ledger.accounts_get_or_create(
            kind=Account.Kind.FUNDING, currency=currency, owner_ids=payers, now=now
        )
        funding.update(((currency, payer), account) for payer, account in accounts.items())
        platform[currency] = ledger.account_get_or_create(
            kind=Account.Kind.PLATFORM_FEES, currency=currency, now=now
        )
    movements = [
        ledger.Movement(
            kind=LedgerTransaction.Kind.FEE_REFUND,
            currency=fee.currency,
            legs=[
                ledger.Leg(platform[fee.currency], -fee.amount),
                ledger.Leg(funding[(fee.currency, fee.payer_id)], fee.amount),
            ],
            memo=f"Arbitration fee back to the {fee.party}, dispute #{fee.dispute_id}",
        )
        for fee in fees
    ]
    written = ledger.post_many(movements=movements, now=now)
    refund_of = {fee.pk: refund for fee, refund in zip(fees, written, strict=True)}
    perform(
        ArbitrationFee.lifecycle,
        "refund",
        fees,
        now=now,
        values=lambda fee: {"refunded_at": now, "refund_id": refund_of[fee.pk]},
    )


def remind_window(rows: Iterable[Dispute], hours: int, now: datetime) -> None:
    rows = list(rows)
    paid = set(ArbitrationFee.objects.filter(dispute__in=rows).values_list("dispute_id", "party"))
    disputes.remind_parties(
        disputes=rows,
        owes=lambda d, party: (d.pk, party) not in paid,
        title=f"{hours} hours left to agree to arbitration",
        body=lambda d: (
            f"The arbitration window on “{d.refund_request.contract.title}” closes "
            f"{deadlines.when(d.response_due_at)}. Pay your share of the fee before then to "
            "take part."
        ),
        now=now,
    )


# --- The case: evidence requests and the award -----------------------------------------------


@service
def evidence_request_create(
    *,
    dispute: Dispute,
    arbitrator: User,
    party: str,
    message: str,
    due_at: datetime,
    now: datetime,
) -> EvidenceRequest:
    """Ask one party for more evidence by ``due_at``; the party uploads it to the dispute."""
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check("request_evidence", dispute, user=arbitrator, now=now)
    case = ArbitrationCase.objects.select_for_update(of=("self",)).get(dispute=dispute)
    errors = {}
    if party not in Party.values:
        errors["party"] = ["Choose freelancer or client."]
    text = (message or "").strip()
    if not text:
        errors["message"] = ["Say what evidence you need."]
    if due_at is None or due_at <= now:
        errors["due_at"] = ["The due date must be in the future."]
    elif due_at - now > settings.DEADLINE_MAX_AHEAD:
        errors["due_at"] = [
            f"A deadline can be set at most {settings.DEADLINE_MAX_AHEAD.days} days ahead."
        ]
    if errors:
        raise InvalidInput("The evidence request is not valid.", fields=errors)
    if dispute.arbitrator_id != arbitrator.pk:
        # Whoever decides takes the case, on the record.
        disputes.dispute_assign(dispute=dispute, staff=arbitrator, role="arbitrator", now=now)
    request = EvidenceRequest.objects.create(
        case=case,
        party=party,
        message=text,
        requested_by=arbitrator,
        requested_at=now,
        **deadlines.kind("evidence_request", EvidenceRequest).arm(due_at=due_at, now=now),
    )
    contract = dispute.refund_request.contract
    perform(
        Dispute.lifecycle,
        "request_evidence",
        dispute,
        user=arbitrator,
        now=now,
        checked=True,
        event=Event(
            Kind.EVIDENCE_REQUESTED,
            note=f"The arbitrator asks the {party} for more evidence: {text}",
            deadline=("evidence_request", party, due_at),
        ),
        notify=[
            Message(
                user_id=getattr(contract, f"{party}_id"),
                kind="evidence_requested",
                title=f"The arbitrator asks you for evidence on “{contract.title}”",
                body=f"{text}\n\nUpload it on the dispute page by {deadlines.when(due_at)}.",
                url=dispute.get_absolute_url(),
            )
        ],
    )
    return request


def _allow_requested_evidence(dispute: Dispute, actor: User, now: datetime):
    """In a case, a party adds the evidence an arbitrator asked it for, before the due date.

    The request due first decides; a passed one is closed by its deadline before the refusal.
    """
    party = Dispute.lifecycle.check("add_requested_evidence", dispute, user=actor, now=now)
    request = (
        EvidenceRequest.objects.select_for_update(of=("self",))
        .select_related("case__dispute__refund_request__contract")
        .filter(case__dispute=dispute, party=party, status=EvidenceRequest.Status.OPEN)
        .order_by("due_at", "pk")
        .first()
    )
    EvidenceRequest.lifecycle.check("answer", request, user=actor, now=now)
    return EvidenceRequest.lifecycle, "answer", request


disputes.EVIDENCE_STAGES[DStatus.IN_ARBITRATION] = _allow_requested_evidence


def _open_evidence_request(dispute: Dispute):
    """The party deadline an extension moves in a case: the open evidence request due first."""
    request = (
        EvidenceRequest.objects.filter(case__dispute=dispute, status=EvidenceRequest.Status.OPEN)
        .order_by("due_at", "pk")
        .first()
    )
    if request is None:
        return None
    return deadlines.kind("evidence_request", EvidenceRequest), request


Dispute.PARTY_DEADLINE_FINDERS[DStatus.IN_ARBITRATION] = _open_evidence_request


def evidence_requests_close(rows: list[EvidenceRequest], *, now: datetime) -> None:
    """The evidence request's deadline: no more uploads for it."""
    perform(
        EvidenceRequest.lifecycle,
        "close",
        rows,
        now=now,
        values={"closed_at": now},
        event=lambda r: Event(
            Kind.EVIDENCE_REQUEST_CLOSED,
            note=f"The request for evidence from the {r.party} is closed: its due date passed.",
        ),
    )


def remind_evidence(rows: Iterable[EvidenceRequest], hours: int, now: datetime) -> None:
    messages = []
    for request in rows:
        dispute = request.case.dispute
        contract = dispute.refund_request.contract
        messages.append(
            Message(
                user_id=getattr(contract, f"{request.party}_id"),
                kind="deadline_reminder",
                title=f"{hours} hours left to send the evidence the arbitrator asked for",
                body=f"{request.message}\n\nUpload it by {deadlines.when(request.due_at)}.",
                url=dispute.get_absolute_url(),
            )
        )
    notifications_send(messages=messages, now=now)


@service
def award_issue(
    *,
    dispute: Dispute,
    arbitrator: User,
    to_freelancer: object,
    to_client: object,
    reasons: str,
    now: datetime,
) -> Award:
    """Issue the final award: an exact split of R with written reasons. The money moves now."""
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    Dispute.lifecycle.check("award", dispute, user=arbitrator, now=now)
    case = (
        ArbitrationCase.objects.select_for_update(of=("self",))
        .select_related("dispute__refund_request__contract")
        .get(dispute=dispute)
    )
    ArbitrationCase.lifecycle.check("award", case, user=arbitrator, now=now)
    request = dispute.refund_request
    share_f, share_c = parse_split(
        to_freelancer=to_freelancer,
        to_client=to_client,
        total=request.amount,
        currency=request.currency,
    )
    text = (reasons or "").strip()
    if not text:
        message = "Write the reasons for the award."
        raise InvalidInput(message, code="reasons_required", fields={"reasons": [message]})
    award = Award.objects.create(
        case=case,
        arbitrator=arbitrator,
        currency=request.currency,
        to_freelancer=share_f,
        to_client=share_c,
        reasons=text,
        issued_at=now,
    )
    perform(
        ArbitrationCase.lifecycle,
        "award",
        case,
        user=arbitrator,
        now=now,
        checked=True,
        values={"awarded_at": now},
    )
    perform(
        EvidenceRequest.lifecycle,
        "close_with_case",
        list(
            EvidenceRequest.objects.select_for_update(of=("self",))
            .filter(case=case, status=EvidenceRequest.Status.OPEN)
            .order_by("pk")
        ),
        now=now,
        values={"closed_at": now},
    )
    if dispute.arbitrator_id != arbitrator.pk:
        # Whoever decides takes the case, on the record.
        disputes.dispute_assign(dispute=dispute, staff=arbitrator, role="arbitrator", now=now)
    disputes.disputes_close(
        closings=[disputes.Closing(dispute=dispute, to_freelancer=share_f, to_client=share_c)],
        action="award",
        outcome=Dispute.Outcome.AWARDED,
        event_kind=Kind.AWARD_ISSUED,
        actor=arbitrator,
        why=f"The arbitrator issued a final, binding award: {text}",
        now=now,
    )
    return award


# --- Settled by an offer ---------------------------------------------------------------------


def _settled_in_window(dispute: Dispute, *, now: datetime) -> str:
    """Settled before a case opens: whatever a party paid for arbitration is refunded."""
    fees = list(
        ArbitrationFee.objects.select_for_update(of=("self",))
        .filter(dispute=dispute, status=ArbitrationFee.Status.PAID)
        .select_related("payer")
        .order_by("pk")
    )
    if not fees:
        return ""
    _refund_fees(fees, now=now)
    return " ".join(
        f"The {fee.party}'s arbitration fee of {money(fee.amount, fee.currency)} is refunded."
        for fee in fees
    )


def _settled_in_case(dispute: Dispute, *, now: datetime) -> str:
    """Settled once the case is open: the fees stay, the case closes as settled, and so do its
    open evidence requests."""
    case = ArbitrationCase.objects.select_for_update(of=("self",)).get(dispute=dispute)
    perform(ArbitrationCase.lifecycle, "settle", case, now=now)
    perform(
        EvidenceRequest.lifecycle,
        "close_with_case",
        list(
            EvidenceRequest.objects.select_for_update(of=("self",))
            .filter(case=case, status=EvidenceRequest.Status.OPEN)
            .order_by("pk")
        ),
        now=now,
        values={"closed_at": now},
    )
    return "The arbitration case closes as settled; the arbitration fees are not refunded."


offers.SETTLING[DStatus.ARBITRATION_WINDOW] = _settled_in_window
offers.SETTLING[DStatus.IN_ARBITRATION] = _settled_in_case


def cases_enter_arbitration(rows: list[Dispute], *, now: datetime) -> None:
    """Cases that just opened (``Dispute.lifecycle.on_entering``): assign an arbitrator."""
    disputes.disputes_auto_assign(rows, role="arbitrator", now=now)
