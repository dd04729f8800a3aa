"""Refund requests and disputes: every change to them, by a person or by a deadline.

Locks are always taken in the same order: refund request, then dispute, then milestone, then
ledger accounts. A person's action locks and waits; a deadline sweep claims with SKIP LOCKED. The
work an action and its deadline share (refunding, settling) is one batch function, so a sweep
settles hundreds of rows per transaction through exactly the code a single click runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.urls import reverse

from accounts.models import Role, User
from accounts.selectors import user_has_role
from accounts.services import Message, notifications_send, user_ensure_can_act
from contracts import services as contract_services
from contracts.models import Contract, Milestone
from core import deadlines
from core.errors import Conflict, DeadlinePassed, IllegalTransition, InvalidInput, NotAllowed
from core.links import url_maker
from core.money import format_amount, money, parse_amount
from core.transitions import ensure_transition
from core.uploads import check_upload, check_uploads, human_size

from .models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent

# Refund requests and disputes both keep their reminders in these columns.
REMINDER_FIELDS = {48: "reminded_48h_at", 24: "reminded_24h_at"}

RRStatus = RefundRequest.Status
DStatus = Dispute.Status
Kind = TimelineEvent.Kind


class NotTheFreelancer(NotAllowed):
    code = "not_the_freelancer"
    default_message = "Only the contract's freelancer can take this action."


class NotTheClient(NotAllowed):
    code = "not_the_client"
    default_message = "Only the contract's client can take this action."


class DisputeAlreadyStarted(Conflict):
    code = "dispute_exists"
    default_message = "A dispute has already been started for this refund request."


class FilingLocked(Conflict):
    code = "filing_locked"
    default_message = "A submitted dispute cannot be edited."


def _ensure_party(*, contract: Contract, actor: User, party: str) -> None:
    user_ensure_can_act(user=actor)
    if party == "freelancer" and actor.pk != contract.freelancer_id:
        raise NotTheFreelancer()
    if party == "client" and actor.pk != contract.client_id:
        raise NotTheClient()


def _ensure_before(due_at: datetime, now: datetime, what: str) -> None:
    if now >= due_at:
        raise DeadlinePassed(f"The deadline to {what} passed on {deadlines.when(due_at)}.")


def _amounts(currency: str, **amounts: Decimal | None) -> dict[str, str]:
    return {k: format_amount(v, currency) for k, v in amounts.items() if v is not None}


def _transition(table, obj, target: str, model: str) -> None:
    ensure_transition(table, model=model, current=obj.status, target=target)


def _lock_refund_request(pk: int) -> RefundRequest:
    return (
        RefundRequest.objects.select_for_update(of=("self",))
        .select_related("contract", "milestone")
        .get(pk=pk)
    )


def lock_dispute(*, dispute_id: int) -> Dispute:
    """Lock one dispute row for the rest of the transaction (its request loaded, not locked)."""
    return _lock_dispute(dispute_id)


def _lock_dispute(pk: int) -> Dispute:
    return (
        Dispute.objects.select_for_update(of=("self",))
        .select_related("refund_request__contract", "milestone")
        .get(pk=pk)
    )


def _event(
    *,
    refund_request_id: int,
    kind: str,
    at: datetime,
    dispute_id: int | None = None,
    actor_id: int | None = None,
    amounts: dict | None = None,
    note: str = "",
) -> dict:
    """One timeline event's columns, for :func:`_timeline_insert`."""
    return {
        "refund_request_id": refund_request_id,
        "dispute_id": dispute_id,
        "kind": kind,
        "actor_id": actor_id,
        "at": at,
        "amounts": amounts or {},
        "note": note,
        "deadline_kind": "",
        "deadline_party": "",
        "deadline_due_at": None,
        "evidence_id": None,
        "internal": False,
    }


def _timeline_insert(events: list[dict]) -> None:
    """Append many timeline events (made by :func:`_event`) at once, as sweeps do."""
    if not events:
        return
    if connection.vendor != "postgresql":
        TimelineEvent.objects.bulk_create(TimelineEvent(**e) for e in events)
        return
    columns = list(events[0])
    types = {
        "refund_request_id": "bigint",
        "dispute_id": "bigint",
        "actor_id": "bigint",
        "evidence_id": "bigint",
        "at": "timestamptz",
        "deadline_due_at": "timestamptz",
        "internal": "boolean",
        "amounts": "jsonb",
    }
    # JSON goes over as text and becomes jsonb in the SELECT; the rest keeps its own type.
    selects = ", ".join(f"u.{c}::jsonb" if c == "amounts" else f"u.{c}" for c in columns)
    arrays = ", ".join(
        f"%s::{types.get(c, 'text') if c != 'amounts' else 'text'}[]" for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO disputes_timelineevent ({', '.join(columns)}) SELECT {selects}"
            f" FROM unnest({arrays}) AS u({', '.join(columns)})",
            [[json.dumps(e[c]) if c == "amounts" else e[c] for e in events] for c in columns],
        )


# --- Ending a contract ----------------------------------------------------------------------


@transaction.atomic
def contract_end(
    *, contract: Contract, actor: User, payments: Mapping[int, object], now: datetime
) -> list[RefundRequest]:
    """End the contract, pay what the client chose, and open a refund request for the rest.

    Each milestone's payment P is released at once; for each milestone with money left
    (R = E − P > 0) a refund request opens, and the freelancer has
    REFUND_REQUEST_RESPONSE_PERIOD to accept it or file a dispute.
    """
    held = contract_services.contract_end(
        contract=contract, actor=actor, payments=payments, now=now
    )
    due_at = now + settings.REFUND_REQUEST_RESPONSE_PERIOD
    covered = deadlines.reminders_already_covered(due_at=due_at, now=now, fields=REMINDER_FIELDS)
    requests = RefundRequest.objects.bulk_create(
        RefundRequest(
            milestone=h.milestone,
            contract=contract,
            currency=contract.currency,
            escrowed=h.escrowed,
            paid=h.paid,
            amount=h.remaining,
            created_at=now,
            response_due_at=due_at,
            **covered,
        )
        for h in held
    )
    TimelineEvent.objects.bulk_create(
        TimelineEvent(
            refund_request=r,
            kind=Kind.REFUND_REQUESTED,
            actor=actor,
            at=now,
            amounts=_amounts(
                r.currency, escrowed=r.escrowed, paid=r.paid, refund_requested=r.amount
            ),
            note=f"{actor} ended the contract and asked for {money(r.amount, r.currency)} back.",
            deadline_kind="refund_request_response",
            deadline_party="freelancer",
            deadline_due_at=due_at,
        )
        for r in requests
    )
    notifications_send(
        messages=[
            Message(
                user_id=contract.freelancer_id,
                kind="refund_requested",
                title=f"Refund request on “{contract.title}”",
                body=(
                    f"{actor} ended the contract, paid {money(r.paid, r.currency)} of "
                    f"“{r.milestone.title}” and asks for {money(r.amount, r.currency)} back. "
                    f"Accept the refund or file a dispute by {deadlines.when(due_at)}; if you do "
                    f"nothing, the money is refunded to the client."
                ),
                url=r.get_absolute_url(),
            )
            for r in requests
        ],
        now=now,
    )
    return requests


# --- Refunding: the freelancer accepts, or stays silent -------------------------------------


def refund_requests_refund(
    *, refund_requests: list[RefundRequest], actor: User | None, now: datetime
) -> None:
    """Refund each locked OPEN refund request's amount to its client.

    ``actor`` is the freelancer accepting, or None when the deadline passed. A draft dispute of
    the request lapses with it.
    """
    if not refund_requests:
        return
    target = RRStatus.ACCEPTED if actor else RRStatus.EXPIRED
    for r in refund_requests:
        _transition(RefundRequest.TRANSITIONS, r, target, "refund request")
    ids = [r.pk for r in refund_requests]
    drafts = list(
        Dispute.objects.select_for_update(of=("self",))
        .filter(refund_request_id__any=ids, status=DStatus.DRAFT)
        .order_by("pk")
    )
    milestones = contract_services.milestones_settle(
        settlements=[
            contract_services.Settlement(
                milestone_id=r.milestone_id, to_freelancer=Decimal(0), to_client=r.amount
            )
            for r in refund_requests
        ],
        actor=actor,
        now=now,
    )
    RefundRequest.objects.filter(pk__any=ids).update(status=target, closed_at=now)
    Dispute.objects.filter(pk__any=[d.pk for d in drafts]).update(
        status=DStatus.LAPSED, closed_at=now
    )
    for r in refund_requests:
        r.status, r.closed_at = target, now

    kind = Kind.REFUND_ACCEPTED if actor else Kind.REFUND_EXPIRED
    events = [
        _event(
            refund_request_id=r.pk,
            kind=kind,
            actor_id=actor.pk if actor else None,
            at=now,
            amounts=_amounts(r.currency, refunded=r.amount),
            note=(
                f"{money(r.amount, r.currency)} refunded to the client."
                if actor
                else f"No answer by the deadline: {money(r.amount, r.currency)} refunded to "
                "the client."
            ),
        )
        for r in refund_requests
    ]
    events += [
        _event(
            refund_request_id=d.refund_request_id,
            dispute_id=d.pk,
            kind=Kind.DRAFT_LAPSED,
            at=now,
            note="The draft dispute was not submitted before the refund request closed.",
        )
        for d in drafts
    ]
    _timeline_insert(events)

    messages = []
    url_of = url_maker("disputes:refund-request")
    for r in refund_requests:
        contract = milestones[r.milestone_id]
        title = f"{money(r.amount, r.currency)} refunded on “{contract.contract_title}”"
        url = url_of(r.pk)
        if actor:
            body = f"{actor} accepted the refund request."
        else:
            body = "The freelancer did not answer the refund request in time."
        messages.append(
            Message(user_id=contract.client_id, kind="refunded", title=title, body=body, url=url)
        )
        if actor is None:
            messages.append(
                Message(
                    user_id=contract.freelancer_id,
                    kind="refunded",
                    title=title,
                    body="You did not accept or dispute the refund request in time, so the "
                    "money went back to the client.",
                    url=url,
                )
            )
    notifications_send(messages=messages, now=now)


@transaction.atomic
def refund_request_accept(
    *, refund_request: RefundRequest, actor: User, now: datetime
) -> RefundRequest:
    """The freelancer agrees: the requested amount goes back to the client."""
    request = _lock_refund_request(refund_request.pk)
    _ensure_party(contract=request.contract, actor=actor, party="freelancer")
    _transition(RefundRequest.TRANSITIONS, request, RRStatus.ACCEPTED, "refund request")
    _ensure_before(request.response_due_at, now, "answer this refund request")
    refund_requests_refund(refund_requests=[request], actor=actor, now=now)
    return request


@deadlines.register("disputes.refund_requests_expire")
def refund_requests_expire(*, now: datetime, batch_size: int) -> int:
    """Refund the client where the freelancer neither accepted nor disputed in time."""
    with transaction.atomic():
        due = deadlines.claim(
            # Only what refunding reads: a sweep builds a thousand of these per batch.
            RefundRequest.objects.filter(status=RRStatus.OPEN).only(
                "status", "milestone_id", "amount", "currency", "response_due_at"
            ),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        refund_requests_refund(refund_requests=due, actor=None, now=now)
    return len(due)


# --- Filing a dispute ------------------------------------------------------------------------


def _clean_filing(*, fields: Mapping[str, object], request: RefundRequest) -> dict[str, object]:
    """Validate the filing fields present in ``fields``; return them cleaned."""
    cleaned: dict[str, object] = {}
    errors: dict[str, list[str]] = {}
    if "feedback_rating" in fields:
        raw = fields["feedback_rating"]
        try:
            rating = int(raw)  # type: ignore[arg-type]
            if isinstance(raw, bool) or str(rating) != str(raw).strip() or not 1 <= rating <= 5:
                raise ValueError
            cleaned["feedback_rating"] = rating
        except (TypeError, ValueError):
            errors["feedback_rating"] = ["Rate the client from 1 to 5."]
    for name, label, limit in (
        ("feedback_comment", "A comment on the client", 5000),
        ("description", "A description", 20000),
    ):
        if name in fields:
            text = str(fields[name] or "").strip()
            if name == "feedback_comment" and not text:
                errors[name] = [f"{label} is required."]
            elif len(text) > limit:
                errors[name] = [f"{label} may be at most {limit} characters."]
            else:
                cleaned[name] = text
    if "reason" in fields:
        reason = str(fields["reason"] or "")
        if reason and reason not in Dispute.Reason.values:
            errors["reason"] = [f"Choose one of {', '.join(Dispute.Reason.values)}."]
        else:
            cleaned["reason"] = reason
    if "amount" in fields and fields["amount"] not in (None, ""):
        try:
            amount = parse_amount(fields["amount"], currency=request.currency)
        except InvalidInput as error:
            errors.update(error.fields)
        else:
            if amount > request.amount:
                errors["amount"] = [
                    f"You can ask to review at most the refund requested, "
                    f"{money(request.amount, request.currency)}."
                ]
            else:
                cleaned["amount"] = amount
    elif "amount" in fields:
        cleaned["amount"] = None
    if errors:
        code = "invalid_amount" if set(errors) == {"amount"} else "invalid"
        raise InvalidInput("Some fields are invalid.", code=code, fields=errors)
    return cleaned


@transaction.atomic
def dispute_start(
    *,
    refund_request: RefundRequest,
    actor: User,
    feedback_rating: object,
    feedback_comment: str,
    reason: str = "",
    description: str = "",
    amount: object = None,
    now: datetime,
) -> Dispute:
    """Start a DRAFT dispute, beginning with the required feedback on the client.

    The draft does not stop the refund request's clock: only submitting does.
    """
    request = _lock_refund_request(refund_request.pk)
    _ensure_party(contract=request.contract, actor=actor, party="freelancer")
    _transition(RefundRequest.TRANSITIONS, request, RRStatus.DISPUTED, "refund request")
    _ensure_before(request.response_due_at, now, "dispute this refund request")
    if Dispute.objects.filter(refund_request=request).exists():
        raise DisputeAlreadyStarted()
    cleaned = _clean_filing(
        fields={
            "feedback_rating": feedback_rating,
            "feedback_comment": feedback_comment,
            "reason": reason,
            "description": description,
            "amount": amount,
        },
        request=request,
    )
    return Dispute.objects.create(
        refund_request=request, milestone=request.milestone, created_at=now, **cleaned
    )


def _lock_draft(dispute: Dispute, actor: User, now: datetime) -> Dispute:
    request = _lock_refund_request(dispute.refund_request_id)
    dispute = _lock_dispute(dispute.pk)
    _ensure_party(contract=request.contract, actor=actor, party="freelancer")
    if dispute.status == DStatus.LAPSED:
        raise FilingLocked(
            "This draft was not submitted before the refund request's deadline; it can no "
            "longer be changed or submitted.",
            code="draft_lapsed",
        )
    if dispute.status != DStatus.DRAFT:
        raise FilingLocked()
    _ensure_before(request.response_due_at, now, "submit this dispute")
    dispute.refund_request = request
    return dispute


@transaction.atomic
def evidence_remove(*, evidence: Evidence, actor: User, now: datetime) -> None:
    """Take a file out of a draft filing (nothing of a submitted filing can be removed)."""
    if evidence.dispute_id is None or evidence.uploaded_by_id != actor.pk:
        raise NotAllowed("Only the freelancer removes files from their own draft.")
    _lock_draft(evidence.dispute, actor, now)
    stored = Evidence.objects.select_for_update().get(pk=evidence.pk)
    name = stored.file.name
    stored.delete()
    transaction.on_commit(lambda: stored.file.storage.delete(name))


@transaction.atomic
def dispute_update(
    *, dispute: Dispute, actor: User, changes: Mapping[str, object], now: datetime
) -> Dispute:
    """Change a DRAFT filing: any of feedback, reason, description and amount."""
    dispute = _lock_draft(dispute, actor, now)
    allowed = {"feedback_rating", "feedback_comment", "reason", "description", "amount"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            "Only the filing's own fields can be changed.",
            fields={name: ["This field cannot be changed."] for name in sorted(unknown)},
        )
    cleaned = _clean_filing(fields=changes, request=dispute.refund_request)
    for name, value in cleaned.items():
        setattr(dispute, name, value)
    dispute.save(update_fields=list(cleaned))
    return dispute


@transaction.atomic
def dispute_submit(*, dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """Submit the filing: it can no longer change, and the client's time to answer starts."""
    dispute = _lock_draft(dispute, actor, now)
    request = dispute.refund_request
    missing = {
        name: [f"{label} is required before you submit."]
        for name, label in (
            ("feedback_comment", "Feedback on the client"),
            ("reason", "A reason"),
            ("description", "A description of the agreements and the work"),
            ("amount", "The amount to review"),
        )
        if not getattr(dispute, name)
    }
    if missing:
        raise InvalidInput("The filing is not complete.", code="incomplete", fields=missing)
    _transition(Dispute.TRANSITIONS, dispute, DStatus.AWAITING_CLIENT, "dispute")
    _transition(RefundRequest.TRANSITIONS, request, RRStatus.DISPUTED, "refund request")

    due_at = now + settings.DISPUTE_CLIENT_RESPONSE_PERIOD
    covered = deadlines.reminders_already_covered(due_at=due_at, now=now, fields=REMINDER_FIELDS)
    dispute.status = DStatus.AWAITING_CLIENT
    dispute.submitted_at = dispute.stage_started_at = now
    dispute.response_due_at = due_at
    for name, value in covered.items():
        setattr(dispute, name, value)
    dispute.save(
        update_fields=["status", "submitted_at", "stage_started_at", "response_due_at", *covered]
    )
    request.status, request.closed_at = RRStatus.DISPUTED, now
    request.save(update_fields=["status", "closed_at"])

    evidence = list(dispute.evidence.order_by("uploaded_at", "pk"))
    TimelineEvent.objects.bulk_create(
        [
            TimelineEvent(
                refund_request=request,
                dispute=dispute,
                kind=Kind.DISPUTE_FILED,
                actor=actor,
                at=now,
                amounts=_amounts(
                    request.currency, refund_requested=request.amount, disputed=dispute.amount
                ),
                note=(
                    f"{actor} disputes {money(dispute.amount, request.currency)} "
                    f"({dispute.get_reason_display().lower()})."
                ),
                deadline_kind="client_response",
                deadline_party="client",
                deadline_due_at=due_at,
            ),
            *(_evidence_event(e, request, dispute, now) for e in evidence),
        ]
    )
    contract = request.contract
    notifications_send(
        messages=[
            Message(
                user_id=contract.client_id,
                kind="dispute_filed",
                title=f"Dispute filed on “{contract.title}”",
                body=(
                    f"{contract.freelancer} disputes {money(dispute.amount, request.currency)} "
                    f"of your refund request. Accept or decline by {deadlines.when(due_at)}; "
                    "if you do nothing, that amount is released to the freelancer."
                ),
                url=dispute.get_absolute_url(),
            )
        ],
        now=now,
    )
    return dispute


def _evidence_event(
    evidence: Evidence, request: RefundRequest, dispute: Dispute, now: datetime
) -> TimelineEvent:
    return TimelineEvent(
        refund_request=request,
        dispute=dispute,
        kind=Kind.EVIDENCE_ADDED,
        actor_id=evidence.uploaded_by_id,
        at=now,
        evidence=evidence,
        note=f"{evidence.name} ({human_size(evidence.size)}), SHA-256 {evidence.sha256}",
    )


def _store_evidence(upload, *, actor: User, now: datetime, description: str = "", **owner):
    checked = check_upload(upload)
    evidence = Evidence(
        uploaded_by=actor,
        name=checked.name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        description=(description or "").strip()[:500],
        uploaded_at=now,
        **owner,
    )
    evidence.file.save(checked.storage_name("evidence"), checked.file, save=False)
    evidence.save()
    return evidence


# Later stages may let a party add evidence (an arbitrator's request for more): each permit is
# asked ``permit(dispute, actor, now) -> bool`` when the rules here say no.
EVIDENCE_PERMITS: list[Callable[[Dispute, User, datetime], bool]] = []


@transaction.atomic
def evidence_add(
    *, dispute: Dispute, actor: User, file, description: str = "", now: datetime
) -> Evidence:
    """Attach a file: the freelancer while drafting, the client while the dispute awaits them,
    or a party a later stage permits (see EVIDENCE_PERMITS).

    Files are checked by content before anything is stored; each party may attach at most
    UPLOAD_MAX_FILES files in each stage of a dispute.
    """
    current = Dispute.objects.select_related("refund_request__contract").get(pk=dispute.pk)
    contract = current.refund_request.contract
    if actor.pk == contract.freelancer_id and current.status == DStatus.DRAFT:
        # A draft is locked in the global order (refund request, then dispute); its status is
        # checked again under the locks.
        locked = _lock_draft(current, actor, now)
    else:
        locked = _lock_dispute(dispute.pk)
        user_ensure_can_act(user=actor)
        if actor.pk not in (contract.client_id, contract.freelancer_id):
            raise NotAllowed()
        if actor.pk == contract.client_id and locked.status == DStatus.AWAITING_CLIENT:
            _ensure_before(locked.response_due_at, now, "add evidence")
        elif not any(permit(locked, actor, now) for permit in EVIDENCE_PERMITS):
            raise FilingLocked(
                "Evidence can be added only by the freelancer while drafting, by the client "
                "while the dispute waits for their answer, or by a party the arbitrator asked."
            )
    request = locked.refund_request
    # The limit holds per party and stage: files of the filing do not use up the room an
    # arbitrator's later request gives.
    mine = locked.evidence.filter(uploaded_by=actor)
    if locked.status != DStatus.DRAFT and locked.stage_started_at is not None:
        mine = mine.filter(uploaded_at__gte=locked.stage_started_at)
    if mine.count() >= settings.UPLOAD_MAX_FILES:
        message = f"At most {settings.UPLOAD_MAX_FILES} files may be attached."
        raise InvalidInput(message, code="too_many_files", fields={"file": [message]})
    evidence = _store_evidence(file, actor=actor, now=now, description=description, dispute=locked)
    if locked.status != DStatus.DRAFT:
        _evidence_event(evidence, request, locked, now).save()
    return evidence


# --- The client's answer -------------------------------------------------------------------


@dataclass(frozen=True)
class Closing:
    """How one locked dispute ends: the whole refund request's amount R, split exactly."""

    dispute: Dispute
    to_freelancer: Decimal
    to_client: Decimal


def disputes_close(
    *,
    closings: list[Closing],
    outcome: str,
    event_kind: str,
    actor: User | None,
    why: str,
    now: datetime,
) -> None:
    """Close each locked open dispute and pay out its escrow as split; tell both parties.

    Every way a dispute ends goes through here: the client's answer or silence, an accepted
    resolution, a small-claims decision, the arbitration window's end, an award. ``why`` opens
    the notification (e.g. "The client accepted the dispute.").
    """
    if not closings:
        return
    disputes = [c.dispute for c in closings]
    for d in disputes:
        _transition(Dispute.TRANSITIONS, d, DStatus.CLOSED, "dispute")
    # The caller may have the requests loaded already (a lock does, so does the client's answer).
    requests = RefundRequest.objects.in_bulk(
        [d.refund_request_id for d in disputes if not Dispute.refund_request.is_cached(d)]
    )
    for c in closings:
        if not Dispute.refund_request.is_cached(c.dispute):
            c.dispute.refund_request = requests[c.dispute.refund_request_id]
        if c.to_freelancer + c.to_client != c.dispute.refund_request.amount:
            raise InvalidInput(
                "The split must add up to the amount in dispute, "
                f"{money(c.dispute.refund_request.amount, c.dispute.refund_request.currency)}.",
                code="split_mismatch",
            )
    milestones = contract_services.milestones_settle(
        settlements=[
            contract_services.Settlement(
                milestone_id=c.dispute.milestone_id,
                to_freelancer=c.to_freelancer,
                to_client=c.to_client,
            )
            for c in closings
        ],
        actor=actor,
        now=now,
    )
    for c in closings:
        d = c.dispute
        d.status, d.outcome, d.closed_at = DStatus.CLOSED, outcome, now
        d.to_freelancer, d.to_client = c.to_freelancer, c.to_client
    Dispute.objects.bulk_update(
        disputes, ["status", "outcome", "closed_at", "to_freelancer", "to_client"], batch_size=500
    )
    _timeline_insert(
        [
            _event(
                refund_request_id=d.refund_request_id,
                dispute_id=d.pk,
                kind=event_kind,
                actor_id=actor.pk if actor else None,
                at=now,
                amounts=_amounts(
                    d.refund_request.currency, to_freelancer=d.to_freelancer, to_client=d.to_client
                ),
                note=_split_text(d),
            )
            for d in disputes
        ]
    )
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind="dispute_closed",
                title=f"Dispute on “{milestones[d.milestone_id].contract_title}” closed",
                body=f"{why} {_split_text(d)}",
                url=d.get_absolute_url(),
            )
            for d in disputes
            for user_id in (
                milestones[d.milestone_id].freelancer_id,
                milestones[d.milestone_id].client_id,
            )
        ],
        now=now,
    )


def _split_text(d: Dispute) -> str:
    currency = d.refund_request.currency
    return (
        f"{money(d.to_freelancer, currency)} released to the freelancer, "
        f"{money(d.to_client, currency)} refunded to the client."
    )


def disputes_settle_on_client_answer(
    *, disputes: list[Dispute], actor: User | None, now: datetime
) -> None:
    """Pay D to the freelancer and refund R − D for each locked dispute awaiting the client.

    ``actor`` is the client accepting, or None when the client's deadline passed.
    """
    requests = RefundRequest.objects.in_bulk([d.refund_request_id for d in disputes])
    for d in disputes:
        d.refund_request = requests[d.refund_request_id]
    disputes_close(
        closings=[
            Closing(
                dispute=d,
                to_freelancer=d.amount,
                to_client=requests[d.refund_request_id].amount - d.amount,
            )
            for d in disputes
        ],
        outcome=Dispute.Outcome.CLIENT_ACCEPTED if actor else Dispute.Outcome.CLIENT_SILENT,
        event_kind=Kind.DISPUTE_ACCEPTED if actor else Kind.CLIENT_SILENT,
        actor=actor,
        why=(
            "The client accepted the dispute."
            if actor
            else "The client did not answer the dispute in time."
        ),
        now=now,
    )


@transaction.atomic
def dispute_accept(*, dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """The client agrees: the disputed amount goes to the freelancer, the rest back."""
    dispute = _lock_dispute(dispute.pk)
    _ensure_party(contract=dispute.refund_request.contract, actor=actor, party="client")
    if dispute.status != DStatus.AWAITING_CLIENT:
        raise IllegalTransition(
            model="dispute",
            current=dispute.status,
            target=DStatus.CLOSED,
            message=f"This dispute is {dispute.get_status_display().lower()}: only a dispute "
            "waiting for the client's answer can be accepted.",
        )
    _ensure_before(dispute.response_due_at, now, "answer this dispute")
    disputes_settle_on_client_answer(disputes=[dispute], actor=actor, now=now)
    return dispute


@transaction.atomic
def dispute_decline(*, dispute: Dispute, actor: User, reason: str, now: datetime) -> Dispute:
    """The client says no: the dispute goes to a mediation agent; the money stays in escrow."""
    dispute = _lock_dispute(dispute.pk)
    request = dispute.refund_request
    _ensure_party(contract=request.contract, actor=actor, party="client")
    _transition(Dispute.TRANSITIONS, dispute, DStatus.IN_MEDIATION, "dispute")
    _ensure_before(dispute.response_due_at, now, "answer this dispute")
    text = (reason or "").strip()
    if not text:
        message = "Tell the mediation agent why you decline."
        raise InvalidInput(message, fields={"reason": [message]})
    if len(text) > 10_000:
        message = "The reason may be at most 10000 characters."
        raise InvalidInput(message, fields={"reason": [message]})
    dispute.status = DStatus.IN_MEDIATION
    dispute.declined_at = now
    dispute.decline_reason = text
    dispute.save(update_fields=["status", "declined_at", "decline_reason"])
    service_level_at = now + settings.MEDIATION_SERVICE_LEVEL
    TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=Kind.DISPUTE_DECLINED,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, disputed=dispute.amount),
        note=text,
        deadline_kind="mediation_service_level",
        deadline_party="agent",
        deadline_due_at=service_level_at,
    )
    contract = request.contract
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind="dispute_in_mediation",
                title=f"Dispute on “{contract.title}” goes to mediation",
                body=(
                    "The client declined the dispute. A mediation agent will review both sides "
                    "and propose a resolution, typically by "
                    f"{deadlines.when(service_level_at)}. The money stays in escrow meanwhile."
                ),
                url=dispute.get_absolute_url(),
            )
            for user_id in (contract.freelancer_id, contract.client_id)
        ],
        now=now,
    )
    return dispute


@deadlines.register("disputes.client_answers_expire")
def disputes_expire_client_answer(*, now: datetime, batch_size: int) -> int:
    """Release the disputed amount where the client neither accepted nor declined in time."""
    with transaction.atomic():
        due = deadlines.claim(
            Dispute.objects.filter(status=DStatus.AWAITING_CLIENT),
            due_field="response_due_at",
            now=now,
            batch_size=batch_size,
        )
        disputes_settle_on_client_answer(disputes=due, actor=None, now=now)
    return len(due)


# --- Reminders -----------------------------------------------------------------------------


def _remind_refund_requests(requests: Iterable[RefundRequest], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=r.contract.freelancer_id,
                kind="deadline_reminder",
                title=f"{hours} hours left to answer a refund request",
                body=(
                    f"Accept the refund of {money(r.amount, r.currency)} on "
                    f"“{r.contract.title}” or file a dispute by "
                    f"{deadlines.when(r.response_due_at)}. If you do nothing, the money is "
                    "refunded to the client."
                ),
                url=r.get_absolute_url(),
            )
            for r in requests
        ],
        now=now,
    )


def _remind_clients(disputes: Iterable[Dispute], hours: int, now: datetime) -> None:
    notifications_send(
        messages=[
            Message(
                user_id=d.refund_request.contract.client_id,
                kind="deadline_reminder",
                title=f"{hours} hours left to answer a dispute",
                body=(
                    f"Accept or decline the dispute on “{d.refund_request.contract.title}” by "
                    f"{deadlines.when(d.response_due_at)}. If you do nothing, "
                    f"{money(d.amount, d.refund_request.currency)} is released to the "
                    "freelancer."
                ),
                url=d.get_absolute_url(),
            )
            for d in disputes
        ],
        now=now,
    )


REMINDERS = {
    "disputes.refund_request_reminders": deadlines.Reminder(
        queryset=lambda: RefundRequest.objects.filter(status=RRStatus.OPEN).select_related(
            "contract"
        ),
        due_field="response_due_at",
        fields=REMINDER_FIELDS,
        send=_remind_refund_requests,
    ),
    "disputes.client_answer_reminders": deadlines.Reminder(
        queryset=lambda: Dispute.objects.filter(status=DStatus.AWAITING_CLIENT).select_related(
            "refund_request__contract"
        ),
        due_field="response_due_at",
        fields=REMINDER_FIELDS,
        send=_remind_clients,
    ),
}
for _name, _reminder in REMINDERS.items():
    deadlines.register_reminder(_name, _reminder)


# --- Support cases -------------------------------------------------------------------------


@transaction.atomic
def support_case_open(
    *, milestone: Milestone, actor: User, description: str, files=(), now: datetime
) -> SupportCase:
    """The freelancer asks staff for help with work the client neither pays nor ends."""
    text = (description or "").strip()
    if not text:
        message = "Describe the work you delivered and why payment is due."
        raise InvalidInput(message, fields={"description": [message]})
    uploads = list(files)
    check_uploads(uploads)
    milestone = contract_services.lock_milestone(milestone_id=milestone.pk)
    contract = milestone.contract
    _ensure_party(contract=contract, actor=actor, party="freelancer")
    if contract.status != Contract.Status.ACTIVE or milestone.status not in (
        Milestone.Status.FUNDED,
        Milestone.Status.SUBMITTED,
    ):
        raise Conflict(
            "A support case is for funded work on an active contract; an ended contract has "
            "its refund request and dispute instead.",
            code="not_active",
        )
    case = SupportCase.objects.create(
        milestone=milestone, opened_by=actor, description=text, created_at=now
    )
    for upload in uploads:
        _store_evidence(upload, actor=actor, now=now, support_case=case)
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind="support_case_opened",
                title=f"Support case #{case.pk} on “{contract.title}”",
                body=text,
                url=reverse("admin:disputes_supportcase_change", args=[case.pk]),
            )
            for user_id in User.objects.filter(groups__name=Role.SUPPORT.value)
            .values_list("pk", flat=True)
            .order_by("pk")
        ],
        now=now,
    )
    return case


@transaction.atomic
def support_case_close(*, case: SupportCase, actor: User, note: str, now: datetime) -> SupportCase:
    """Staff close a support case with a note the freelancer can read."""
    case = SupportCase.objects.select_for_update().get(pk=case.pk)
    if not actor.is_staff:
        raise NotAllowed()
    if case.status != SupportCase.Status.OPEN:
        raise Conflict("This support case is already closed.")
    case.status, case.closed_at, case.staff_note = SupportCase.Status.CLOSED, now, note.strip()
    case.save(update_fields=["status", "closed_at", "staff_note"])
    notifications_send(
        messages=[
            Message(
                user_id=case.opened_by_id,
                kind="support_case_closed",
                title=f"Support case #{case.pk} closed",
                body=case.staff_note,
                url=case.get_absolute_url(),
            )
        ],
        now=now,
    )
    return case


# --- For the stages after mediation starts (the mediation and arbitration apps) -------------


def _ensure_role(user: User, role: Role) -> None:
    user_ensure_can_act(user=user)
    if not user_has_role(user=user, role=role):
        raise NotAllowed(f"Only {role.label.lower()} can take this action.", code="not_allowed")


def dispute_advance(
    *,
    dispute: Dispute,
    target: str,
    kind: str,
    actor: User | None,
    now: datetime,
    due_at: datetime | None = None,
    started_at: datetime | None = None,
    note: str = "",
    amounts: Mapping[str, Decimal] | None = None,
    deadline_kind: str = "",
    deadline_party: str = "",
    notify_title: str = "",
    notify_body: str = "",
) -> Dispute:
    """Move a locked dispute to its next stage, with that stage's deadline, and say so.

    The event goes on the timeline in the same transaction; both parties are told after commit
    (when ``notify_title`` is given). The stage's reminders start afresh.
    """
    _transition(Dispute.TRANSITIONS, dispute, target, "dispute")
    dispute.status = target
    dispute.response_due_at = due_at
    dispute.stage_started_at = started_at or now
    reminders = {field: None for field in REMINDER_FIELDS.values()}
    if due_at is not None:
        reminders.update(
            deadlines.reminders_already_covered(
                due_at=due_at, now=dispute.stage_started_at, fields=REMINDER_FIELDS
            )
        )
    for field, value in reminders.items():
        setattr(dispute, field, value)
    dispute.save(update_fields=["status", "response_due_at", "stage_started_at", *reminders])
    request = dispute.refund_request
    TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=kind,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, **(amounts or {})),
        note=note,
        deadline_kind=deadline_kind,
        deadline_party=deadline_party,
        deadline_due_at=due_at,
    )
    if notify_title:
        contract = request.contract
        notifications_send(
            messages=[
                Message(
                    user_id=user_id,
                    kind=kind.lower(),
                    title=f"{notify_title} on “{contract.title}”",
                    body=notify_body,
                    url=dispute.get_absolute_url(),
                )
                for user_id in (contract.freelancer_id, contract.client_id)
            ],
            now=now,
        )
    return dispute


def timeline_event_add(
    *,
    dispute: Dispute,
    kind: str,
    actor: User | None,
    now: datetime,
    note: str = "",
    amounts: Mapping[str, Decimal] | None = None,
    internal: bool = False,
    deadline: tuple[str, str, datetime] | None = None,
) -> TimelineEvent:
    """Append one event to a dispute's timeline (inside the caller's transaction)."""
    request = dispute.refund_request
    kind_, party, due_at = deadline or ("", "", None)
    return TimelineEvent.objects.create(
        refund_request=request,
        dispute=dispute,
        kind=kind,
        actor=actor,
        at=now,
        amounts=_amounts(request.currency, **(amounts or {})),
        note=note,
        internal=internal,
        deadline_kind=kind_,
        deadline_party=party,
        deadline_due_at=due_at,
    )


def notify_parties(*, dispute: Dispute, kind: str, title: str, body: str, now: datetime) -> None:
    """Tell both parties of a dispute something, after the transaction commits."""
    contract = dispute.refund_request.contract
    notifications_send(
        messages=[
            Message(
                user_id=user_id,
                kind=kind,
                title=f"{title} on “{contract.title}”",
                body=body,
                url=dispute.get_absolute_url(),
            )
            for user_id in (contract.freelancer_id, contract.client_id)
        ],
        now=now,
    )


def remind_parties(
    *,
    disputes: Iterable[Dispute],
    owes: Callable[[Dispute, str], bool],
    title: str,
    body: Callable[[Dispute], str],
    now: datetime,
) -> None:
    """Remind each party of each dispute that ``owes(dispute, party)`` an answer or a payment.

    The disputes come with ``refund_request__contract`` loaded (as the reminder sweeps load
    them); ``body(dispute)`` is the text both parties would read.
    """
    messages = []
    for dispute in disputes:
        contract = dispute.refund_request.contract
        for party in ("freelancer", "client"):
            if owes(dispute, party):
                messages.append(
                    Message(
                        user_id=getattr(contract, f"{party}_id"),
                        kind="deadline_reminder",
                        title=title,
                        body=body(dispute),
                        url=dispute.get_absolute_url(),
                    )
                )
    notifications_send(messages=messages, now=now)


STAFF_ROLES = {"agent": Role.MEDIATION_AGENT, "arbitrator": Role.ARBITRATOR}
ASSIGNABLE_STAGES = {
    "agent": frozenset({DStatus.IN_MEDIATION, DStatus.RESOLUTION_PROPOSED}),
    "arbitrator": frozenset({DStatus.IN_ARBITRATION}),
}


@transaction.atomic
def dispute_assign(*, dispute: Dispute, staff: User, role: str, now: datetime) -> Dispute:
    """Give the case to ``staff`` as its mediation agent or its arbitrator ("assign to me")."""
    _ensure_role(staff, STAFF_ROLES[role])
    dispute = _lock_dispute(dispute.pk)
    if dispute.status not in ASSIGNABLE_STAGES[role]:
        raise Conflict(f"This dispute is {dispute.get_status_display().lower()}: no {role} needed.")
    previous = dispute.agent if role == "agent" else dispute.arbitrator
    if role == "agent":
        dispute.agent, dispute.agent_assigned_at = staff, now
        dispute.save(update_fields=["agent", "agent_assigned_at"])
        kind = Kind.AGENT_ASSIGNED
    else:
        dispute.arbitrator = staff
        dispute.save(update_fields=["arbitrator"])
        kind = Kind.ARBITRATOR_ASSIGNED
    taken = f" from {previous}" if previous is not None and previous != staff else ""
    timeline_event_add(
        dispute=dispute, kind=kind, actor=staff, now=now, note=f"{staff} took the case{taken}."
    )
    return dispute


@transaction.atomic
def dispute_note_add(*, dispute: Dispute, author: User, text: str, now: datetime) -> TimelineEvent:
    """Add an internal note: mediation agents and arbitrators read it, the parties never do."""
    user_ensure_can_act(user=author)
    if not (
        user_has_role(user=author, role=Role.MEDIATION_AGENT)
        or user_has_role(user=author, role=Role.ARBITRATOR)
    ):
        raise NotAllowed("Only mediation agents and arbitrators write internal notes.")
    body = (text or "").strip()
    if not body:
        raise InvalidInput("Write the note first.", fields={"text": ["Write the note first."]})
    dispute = _lock_dispute(dispute.pk)
    return timeline_event_add(
        dispute=dispute, kind=Kind.INTERNAL_NOTE, actor=author, now=now, note=body, internal=True
    )


# A later stage whose party deadline lives on its own rows (an evidence request) registers how
# to move it: ``extender(dispute, due_at, now) -> (old_due_at, party)``, raising Conflict when
# there is nothing to extend.
DEADLINE_EXTENDERS: dict[str, Callable[[Dispute, datetime, datetime], tuple[datetime, str]]] = {}


@transaction.atomic
def dispute_extend(
    *, dispute: Dispute, actor: User, due_at: datetime, reason: str, now: datetime
) -> Dispute:
    """Move the parties' current deadline later, with a written reason both parties see.

    The only way a deadline moves: a mediation agent's action, recorded on the timeline.
    """
    _ensure_role(actor, Role.MEDIATION_AGENT)
    text = (reason or "").strip()
    if not text:
        message = "Give the reason for the extension; both parties will read it."
        raise InvalidInput(message, fields={"reason": [message]})
    request = _lock_refund_request(dispute.refund_request_id)
    dispute = _lock_dispute(dispute.pk)
    dispute.refund_request = request
    if dispute.status == DStatus.DRAFT:
        old, party = request.response_due_at, "freelancer"
    elif dispute.status in Dispute.PARTY_DEADLINE_STAGES:
        old = dispute.response_due_at
        party = "client" if dispute.status == DStatus.AWAITING_CLIENT else "parties"
    elif dispute.status in DEADLINE_EXTENDERS:
        old, party = None, ""
    else:
        raise Conflict(
            f"This dispute is {dispute.get_status_display().lower()}: no party deadline runs.",
            code="no_deadline",
        )
    if old is not None and now >= old:
        raise DeadlinePassed("This deadline has passed already; it can no longer be extended.")
    if due_at <= now or (old is not None and due_at <= old):
        message = "The new deadline must be later than the current one."
        raise InvalidInput(message, code="invalid_due_at", fields={"due_at": [message]})

    if dispute.status == DStatus.DRAFT:
        _move_deadline(request, due_at, now)
    elif dispute.status in Dispute.PARTY_DEADLINE_STAGES:
        _move_deadline(dispute, due_at, now)
    else:
        old, party = DEADLINE_EXTENDERS[dispute.status](dispute, due_at, now)
    timeline_event_add(
        dispute=dispute,
        kind=Kind.DEADLINE_EXTENDED,
        actor=actor,
        now=now,
        note=f"Extended from {deadlines.when(old)} to {deadlines.when(due_at)}: {text}",
        deadline=("extended", party, due_at),
    )
    notify_parties(
        dispute=dispute,
        kind="deadline_extended",
        title="Deadline extended",
        body=f"A mediation agent moved the deadline to {deadlines.when(due_at)}. Reason: {text}",
        now=now,
    )
    return dispute


def _move_deadline(row: RefundRequest | Dispute, due_at: datetime, now: datetime) -> None:
    """Set a row's ``response_due_at`` and re-arm the reminders the new deadline still needs."""
    row.response_due_at = due_at
    for hours, field in REMINDER_FIELDS.items():
        setattr(row, field, now if due_at - now <= timedelta(hours=hours) else None)
    row.save(update_fields=["response_due_at", *REMINDER_FIELDS.values()])
