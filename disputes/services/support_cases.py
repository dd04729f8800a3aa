"""Support cases: a freelancer asks staff for help with work the client neither pays nor ends."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse

from accounts.models import Role, User
from accounts.services import Message
from contracts import services as contract_services
from contracts.models import Milestone
from core.actions import perform, service
from core.errors import InvalidInput
from core.uploads import check_uploads

from ..models import SupportCase
from .evidence import store_evidence


@service
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
    Milestone.lifecycle.check("open_support_case", milestone, user=actor, now=now)
    contract = milestone.contract
    case = SupportCase.objects.create(
        milestone=milestone, opened_by=actor, description=text, created_at=now
    )
    for upload in uploads:
        store_evidence(upload, actor=actor, now=now, support_case=case)
    perform(
        Milestone.lifecycle,
        "open_support_case",
        milestone,
        user=actor,
        now=now,
        checked=True,
        notify=[
            Message(
                user_id=user_id,
                kind="support_case_opened",
                title=f"Support case #{case.pk} on “{contract.title}”",
                body=text,
                url=reverse("admin:disputes_supportcase_change", args=[case.pk]),
            )
            for user_id in User.objects.filter(groups__name=Role.SUPPORT.value)
            .exclude(pk__in=[contract.client_id, contract.freelancer_id])
            .values_list("pk", flat=True)
            .order_by("pk")
        ],
    )
    return case


@service
def support_case_close(*, case: SupportCase, actor: User, note: str, now: datetime) -> SupportCase:
    """Support staff close a support case with a note the freelancer can read."""
    case = (
        SupportCase.objects.select_for_update(of=("self",))
        .select_related("milestone__contract")
        .get(pk=case.pk)
    )
    SupportCase.lifecycle.check("close", case, user=actor, now=now)
    perform(
        SupportCase.lifecycle,
        "close",
        case,
        user=actor,
        now=now,
        checked=True,
        values={"closed_at": now, "staff_note": note.strip()},
        notify=[
            Message(
                user_id=case.opened_by_id,
                kind="support_case_closed",
                title=f"Support case #{case.pk} closed",
                body=note.strip(),
                url=case.get_absolute_url(),
            )
        ],
    )
    return case
