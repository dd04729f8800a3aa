"""Evidence: files a party attaches to a dispute, checked by content before they are stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction

from accounts.models import User
from accounts.services import user_ensure_can_act
from core.errors import InvalidInput, NotAllowed
from core.uploads import check_upload, human_size

from ..models import Dispute, Evidence, RefundRequest, TimelineEvent
from .errors import FilingLocked, _ensure_before
from .locks import _lock_dispute, _lock_draft

DStatus = Dispute.Status
Kind = TimelineEvent.Kind


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
