"""Support cases: a freelancer asks staff for help with work the client neither pays nor ends."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.urls import reverse

from accounts.models import Role, User
from accounts.services import Message, notifications_send
from contracts import services as contract_services
from contracts.models import Contract, Milestone
from core.errors import Conflict, InvalidInput, NotAllowed
from core.uploads import check_uploads

from ..models import SupportCase
from .errors import _ensure_party
from .evidence import _store_evidence


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
