"""Filing a dispute: the freelancer starts a draft, completes it and submits it.

The draft does not stop the refund request's clock; submitting does, and starts the client's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import Message, notifications_send
from core import deadlines
from core.errors import InvalidInput
from core.money import money, parse_amount

from ..models import Dispute, RefundRequest, TimelineEvent
from .errors import DisputeAlreadyStarted, _ensure_before, _ensure_party, _transition
from .evidence import _evidence_event
from .locks import _lock_draft, _lock_refund_request
from .reminders import REMINDER_FIELDS
from .timeline import _amounts

RRStatus = RefundRequest.Status
DStatus = Dispute.Status
Kind = TimelineEvent.Kind


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
