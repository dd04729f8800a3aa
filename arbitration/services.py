"""Arbitration: the fee window after a Notice of Non-Resolution, cases, evidence requests and
the final award."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import ROUND_DOWN, Decimal

from django.conf import settings
from django.db import transaction

from accounts.models import Role, User
from accounts.selectors import user_has_role
from accounts.services import Message, notifications_send, user_ensure_can_act
from contracts import ledger
from contracts.models import Account, LedgerTransaction
from core import deadlines
from core.errors import Conflict, DeadlinePassed, InvalidInput, NotAllowed
from core.money import money, quantum
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation.services import parse_split, party_of

from .models import ArbitrationCase, ArbitrationFee, Award, EvidenceRequest, Party

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


class NotAnArbitrator(NotAllowed):
    code = "not_an_arbitrator"
    default_message = "Only arbitrators can take this action."


class FeeAlreadyPaid(Conflict):
    code = "fee_already_paid"
    default_message = "You have already paid your arbitration fee."


class CaseNotOpen(Conflict):
    code = "case_not_open"
    default_message = "There is no open arbitration case on this dispute."


def arbitration_fee(*, amount: Decimal, currency: str) -> Decimal:
    """Each party's fee: ARBITRATION_FEE_FIXED plus ARBITRATION_FEE_PERCENT of R, rounded down."""
    fee = Decimal(settings.ARBITRATION_FEE_FIXED) + amount * Decimal(
        settings.ARBITRATION_FEE_PERCENT
    ) / Decimal(100)
    return fee.quantize(quantum(currency), rounding=ROUND_DOWN)


def _ensure_arbitrator(user: User) -> None:
    user_ensure_can_act(user=user)
    if not user_has_role(user=user, role=Role.ARBITRATOR):
        raise NotAnArbitrator()


# --- The window: agreeing to arbitration and paying the fee --------------------------------


@transaction.atomic
def arbitration_fee_pay(*, dispute: Dispute, actor: User, now: datetime) -> ArbitrationFee:
    """A party agrees to binding arbitration and pays its share of the fee.

    The second payment opens the case at once; there is nothing left to wait for.
    """
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    party = party_of(dispute, actor)
    user_ensure_can_act(user=actor)
    if party is None:
        raise NotAllowed("Only the parties pay for arbitration.")
    if dispute.status != DStatus.ARBITRATION_WINDOW:
        raise Conflict(
            f"This dispute is {dispute.get_status_display().lower()}: the arbitration window "
            "is not open.",
            code="illegal_transition",
        )
    if now >= dispute.response_due_at:
        raise DeadlinePassed(
            f"The arbitration window closed {deadlines.when(dispute.response_due_at)}."
        )
    if ArbitrationFee.objects.filter(dispute=dispute, party=party).exists():
        raise FeeAlreadyPaid()
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
    disputes.timeline_event_add(
        dispute=dispute,
        kind=Kind.FEE_PAID,
        actor=actor,
        now=now,
        note=f"The {party} agreed to arbitration and paid its fee of "
        f"{money(amount, request.currency)}.",
        amounts={"fee": amount},
    )
    if ArbitrationFee.objects.filter(dispute=dispute).count() == 2:
        _open_cases([dispute], now=now)
    else:
        other = "client" if party == "freelancer" else "freelancer"
        contract = request.contract
        notifications_send(
            messages=[
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
            ],
            now=now,
        )
    return fee


def _open_cases(rows: Iterable[Dispute], *, now: datetime) -> None:
    for dispute in rows:
        ArbitrationCase.objects.create(dispute=dispute, opened_at=now)
        disputes.dispute_advance(
            dispute=dispute,
            target=DStatus.IN_ARBITRATION,
            kind=Kind.ARBITRATION_OPENED,
            actor=None,
            now=now,
            note="Both parties paid: an arbitrator takes the case and issues a final award.",
            notify_title="Arbitration opened",
            notify_body=(
                "Both of you agreed to binding arbitration. An arbitrator will review the case, "
                "may ask either of you for more evidence, and issues a final award that cannot "
                "be appealed."
            ),
        )


@deadlines.register("arbitration.windows_close")
def arbitration_windows_close(*, now: datetime, batch_size: int) -> int:
    """At the window's end: only one party paid, R goes to it with its fee back; neither, R is
    refunded to the client; both (if not opened already), the case opens."""
    with transaction.atomic():
        due = deadlines.claim(
            Dispute.objects.filter(status=DStatus.ARBITRATION_WINDOW).select_related(
                "refund_request__contract"
            ),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        if not due:
            return 0
        fees: dict[int, list[ArbitrationFee]] = {}
        for fee in ArbitrationFee.objects.select_for_update().filter(dispute__in=due):
            fees.setdefault(fee.dispute_id, []).append(fee)

        _open_cases([d for d in due if len(fees.get(d.pk, [])) == 2], now=now)
        for party, outcome in (
            (Party.FREELANCER, Dispute.Outcome.ONLY_FREELANCER_PAID),
            (Party.CLIENT, Dispute.Outcome.ONLY_CLIENT_PAID),
        ):
            won = [d for d in due if [f.party for f in fees.get(d.pk, [])] == [party]]
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
                outcome=outcome,
                event_kind=Kind.ARBITRATION_DEFAULT,
                actor=None,
                why=f"Only the {party} agreed to arbitration and paid its fee, so the {party} "
                "receives the amount in dispute and its fee back.",
                now=now,
            )
        unpaid = [d for d in due if not fees.get(d.pk)]
        disputes.disputes_close(
            closings=[
                disputes.Closing(
                    dispute=d, to_freelancer=Decimal(0), to_client=d.refund_request.amount
                )
                for d in unpaid
            ],
            outcome=Dispute.Outcome.NO_ARBITRATION,
            event_kind=Kind.ARBITRATION_LAPSED,
            actor=None,
            why="Neither party agreed to arbitration in time, so the amount in dispute is "
            "refunded to the client.",
            now=now,
        )
    return len(due)


def _refund_fees(fees: list[ArbitrationFee], *, now: datetime) -> None:
    movements = []
    for fee in fees:
        funding = ledger.account_get_or_create(
            kind=Account.Kind.FUNDING, currency=fee.currency, owner=fee.payer, now=now
        )
        platform = ledger.account_get_or_create(
            kind=Account.Kind.PLATFORM_FEES, currency=fee.currency, now=now
        )
        movements.append(
            ledger.Movement(
                kind=LedgerTransaction.Kind.FEE_REFUND,
                currency=fee.currency,
                legs=[ledger.Leg(platform, -fee.amount), ledger.Leg(funding, fee.amount)],
                memo=f"Arbitration fee back to the {fee.party}, dispute #{fee.dispute_id}",
            )
        )
    written = ledger.post_many(movements=movements, now=now)
    for fee, refund_id in zip(fees, written, strict=True):
        fee.refunded_at, fee.refund_id = now, refund_id
        fee.save(update_fields=["refunded_at", "refund"])


def _remind_window(rows: Iterable[Dispute], hours: int, now: datetime) -> None:
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


WINDOW_REMINDER = deadlines.Reminder(
    queryset=lambda: Dispute.objects.filter(status=DStatus.ARBITRATION_WINDOW).select_related(
        "refund_request__contract"
    ),
    due_field="response_due_at",
    fields=disputes.REMINDER_FIELDS,
    send=_remind_window,
)

deadlines.register_reminder("arbitration.window_reminders", WINDOW_REMINDER)


# --- The case: evidence requests and the award -----------------------------------------------


def _lock_open_case(dispute: Dispute) -> ArbitrationCase:
    if dispute.status != DStatus.IN_ARBITRATION:
        raise CaseNotOpen()
    case = ArbitrationCase.objects.select_for_update().get(dispute=dispute)
    if case.status != ArbitrationCase.Status.OPEN:
        raise CaseNotOpen("The case is closed: its award is final.")
    return case


@transaction.atomic
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
    _ensure_arbitrator(arbitrator)
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    case = _lock_open_case(dispute)
    errors = {}
    if party not in Party.values:
        errors["party"] = ["Choose freelancer or client."]
    text = (message or "").strip()
    if not text:
        errors["message"] = ["Say what evidence you need."]
    if due_at is None or due_at <= now:
        errors["due_at"] = ["The due date must be in the future."]
    if errors:
        raise InvalidInput("The evidence request is not valid.", fields=errors)
    if dispute.arbitrator_id is None:
        disputes.dispute_assign(dispute=dispute, staff=arbitrator, role="arbitrator", now=now)
    request = EvidenceRequest.objects.create(
        case=case,
        party=party,
        message=text,
        requested_by=arbitrator,
        requested_at=now,
        due_at=due_at,
        **deadlines.reminders_already_covered(
            due_at=due_at, now=now, fields=disputes.REMINDER_FIELDS
        ),
    )
    disputes.timeline_event_add(
        dispute=dispute,
        kind=Kind.EVIDENCE_REQUESTED,
        actor=arbitrator,
        now=now,
        note=f"The arbitrator asks the {party} for more evidence: {text}",
        deadline=("evidence_request", party, due_at),
    )
    contract = dispute.refund_request.contract
    notifications_send(
        messages=[
            Message(
                user_id=getattr(contract, f"{party}_id"),
                kind="evidence_requested",
                title=f"The arbitrator asks you for evidence on “{contract.title}”",
                body=f"{text}\n\nUpload it on the dispute page by {deadlines.when(due_at)}.",
                url=dispute.get_absolute_url(),
            )
        ],
        now=now,
    )
    return request


def _may_answer_evidence_request(dispute: Dispute, actor: User, now: datetime) -> bool:
    """A party may add evidence while an arbitrator's request to it is open."""
    if dispute.status != DStatus.IN_ARBITRATION:
        return False
    party = party_of(dispute, actor)
    return EvidenceRequest.objects.filter(
        case__dispute=dispute, party=party, status=EvidenceRequest.Status.OPEN, due_at__gt=now
    ).exists()


disputes.EVIDENCE_PERMITS.append(_may_answer_evidence_request)


def _extend_evidence_request(dispute: Dispute, due_at: datetime, now: datetime):
    request = (
        EvidenceRequest.objects.select_for_update()
        .filter(case__dispute=dispute, status=EvidenceRequest.Status.OPEN, due_at__gt=now)
        .order_by("due_at", "pk")
        .first()
    )
    if request is None:
        raise Conflict(
            "No evidence request is open: there is no party deadline to extend.",
            code="no_deadline",
        )
    if due_at <= request.due_at:
        message = "The new deadline must be later than the current one."
        raise InvalidInput(message, code="invalid_due_at", fields={"due_at": [message]})
    old = request.due_at
    request.due_at = due_at
    for hours, field in disputes.REMINDER_FIELDS.items():
        setattr(request, field, now if (due_at - now).total_seconds() <= hours * 3600 else None)
    request.save(update_fields=["due_at", *disputes.REMINDER_FIELDS.values()])
    return old, request.party


disputes.DEADLINE_EXTENDERS[DStatus.IN_ARBITRATION] = _extend_evidence_request


@deadlines.register("arbitration.evidence_requests_close")
def evidence_requests_close(*, now: datetime, batch_size: int) -> int:
    """Close evidence requests whose due date passed: no more uploads for them."""
    with transaction.atomic():
        due = deadlines.claim(
            EvidenceRequest.objects.filter(status=EvidenceRequest.Status.OPEN).select_related(
                "case__dispute__refund_request__contract"
            ),
            due_field="due_at",
            now=now,
            batch_size=batch_size,
        )
        EvidenceRequest.objects.filter(pk__in=[r.pk for r in due]).update(
            status=EvidenceRequest.Status.CLOSED, closed_at=now
        )
        for request in due:
            disputes.timeline_event_add(
                dispute=request.case.dispute,
                kind=Kind.EVIDENCE_REQUEST_CLOSED,
                actor=None,
                now=now,
                note=f"The request for evidence from the {request.party} is closed: its due "
                "date passed.",
            )
    return len(due)


def _remind_evidence(rows: Iterable[EvidenceRequest], hours: int, now: datetime) -> None:
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


EVIDENCE_REMINDER = deadlines.Reminder(
    queryset=lambda: EvidenceRequest.objects.filter(
        status=EvidenceRequest.Status.OPEN
    ).select_related("case__dispute__refund_request__contract"),
    due_field="due_at",
    fields=disputes.REMINDER_FIELDS,
    send=_remind_evidence,
)

deadlines.register_reminder("arbitration.evidence_reminders", EVIDENCE_REMINDER)


@transaction.atomic
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
    _ensure_arbitrator(arbitrator)
    dispute = disputes.lock_dispute(dispute_id=dispute.pk)
    case = _lock_open_case(dispute)
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
    case.status, case.awarded_at = ArbitrationCase.Status.AWARDED, now
    case.save(update_fields=["status", "awarded_at"])
    EvidenceRequest.objects.filter(case=case, status=EvidenceRequest.Status.OPEN).update(
        status=EvidenceRequest.Status.CLOSED, closed_at=now
    )
    if dispute.arbitrator_id is None:
        disputes.dispute_assign(dispute=dispute, staff=arbitrator, role="arbitrator", now=now)
    disputes.disputes_close(
        closings=[disputes.Closing(dispute=dispute, to_freelancer=share_f, to_client=share_c)],
        outcome=Dispute.Outcome.AWARDED,
        event_kind=Kind.AWARD_ISSUED,
        actor=arbitrator,
        why=f"The arbitrator issued a final, binding award: {text}",
        now=now,
    )
    return award
