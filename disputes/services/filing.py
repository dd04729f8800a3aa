"""Filing a dispute: the freelancer starts a draft, completes it and submits it.

The draft does not stop the refund request's clock; submitting does, and starts the client's.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.conf import settings

from accounts.models import User
from accounts.services import Message
from core import deadlines
from core.actions import Event, perform, service
from core.errors import InvalidInput
from core.money import money, parse_amount

from ..models import Dispute, RefundRequest, TimelineEvent
from . import timeline
from .evidence import evidence_event
from .locks import lock_dispute_with_request, lock_refund_request

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


@service
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
    request = lock_refund_request(refund_request.pk)
    RefundRequest.lifecycle.check("start_dispute", request, user=actor, now=now)
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


def lock_draft(dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """Lock a draft and its refund request, and check the freelancer may still change it."""
    dispute = lock_dispute_with_request(dispute.pk, dispute.refund_request_id)
    Dispute.lifecycle.check("update", dispute, user=actor, now=now)
    return dispute


@service
def dispute_update(
    *, dispute: Dispute, actor: User, changes: Mapping[str, object], now: datetime
) -> Dispute:
    """Change a DRAFT filing: any of feedback, reason, description and amount."""
    dispute = lock_draft(dispute, actor, now)
    allowed = {"feedback_rating", "feedback_comment", "reason", "description", "amount"}
    unknown = set(changes) - allowed
    if unknown:
        raise InvalidInput(
            "Only the filing's own fields can be changed.",
            fields={name: ["This field cannot be changed."] for name in sorted(unknown)},
        )
    cleaned = _clean_filing(fields=changes, request=dispute.refund_request)
    perform(Dispute.lifecycle, "update", dispute, user=actor, now=now, checked=True, values=cleaned)
    return dispute


@service
def dispute_submit(*, dispute: Dispute, actor: User, now: datetime) -> Dispute:
    """Submit the filing: it can no longer change, and the client's time to answer starts."""
    dispute = lock_draft(dispute, actor, now)
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
    RefundRequest.lifecycle.check("dispute", request, user=actor, now=now)

    due_at = now + settings.DISPUTE_CLIENT_RESPONSE_PERIOD
    evidence = list(dispute.evidence.order_by("uploaded_at", "pk"))
    contract = request.contract
    perform(
        Dispute.lifecycle,
        "submit",
        dispute,
        user=actor,
        now=now,
        checked=True,
        values={
            "submitted_at": now,
            "stage_started_at": now,
            **deadlines.kind("client_response", Dispute).arm(due_at=due_at, now=now),
        },
        event=lambda d: [
            Event(
                Kind.DISPUTE_FILED,
                note=(
                    f"{actor} disputes {money(d.amount, request.currency)} "
                    f"({d.get_reason_display().lower()})."
                ),
                amounts=timeline.amounts(
                    request.currency, refund_requested=request.amount, disputed=d.amount
                ),
                deadline=("client_response", "client", due_at),
            ),
            *(evidence_event(e) for e in evidence),
        ],
        notify=[
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
    )
    perform(
        RefundRequest.lifecycle,
        "dispute",
        request,
        user=actor,
        now=now,
        checked=True,
        values={"closed_at": now},
    )
    return dispute
