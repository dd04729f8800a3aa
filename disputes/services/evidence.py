"""Evidence: files a party attaches to a dispute, checked by content before they are stored.

Who may attach a file when is declared on the tables: the freelancer while drafting
(``Dispute`` action ``update``), the client while the dispute waits for their answer
(``add_evidence``), and, in later stages, whoever those stages allow (an arbitrator's evidence
request, registered in ``EVIDENCE_STAGES`` by the arbitration app).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction

from accounts.models import User
from core.actions import Event, perform, service
from core.errors import InvalidInput, NotAllowed
from core.uploads import check_upload, human_size

from ..models import Dispute, Evidence, TimelineEvent
from .locks import lock_dispute, lock_dispute_with_request

DStatus = Dispute.Status
Kind = TimelineEvent.Kind

# A later stage that lets parties add evidence registers, by dispute status, a check
# ``allow(dispute, actor, now)`` that raises why not (no arbitrator's request to that party is
# open) or returns the action that records the file: ``(lifecycle, action name, row)``.
EVIDENCE_STAGES: dict[str, Callable[[Dispute, User, datetime], tuple]] = {}


@service
def evidence_remove(*, evidence: Evidence, actor: User, now: datetime) -> None:
    """Take a file out of a draft filing (nothing of a submitted filing can be removed)."""
    if evidence.dispute_id is None or evidence.uploaded_by_id != actor.pk:
        raise NotAllowed("Only the freelancer removes files from their own draft.")
    dispute = lock_dispute_with_request(evidence.dispute_id, evidence.dispute.refund_request_id)
    Dispute.lifecycle.check("update", dispute, user=actor, now=now)
    stored = Evidence.objects.select_for_update().get(pk=evidence.pk)
    name = stored.file.name
    stored.delete()
    transaction.on_commit(lambda: stored.file.storage.delete(name))


def evidence_event(evidence: Evidence) -> Event:
    """The timeline's record of a file: its name, size and SHA-256, by whoever uploaded it."""
    return Event(
        Kind.EVIDENCE_ADDED,
        note=f"{evidence.name} ({human_size(evidence.size)}), SHA-256 {evidence.sha256}",
        actor_id=evidence.uploaded_by_id,
        refs={"evidence_id": evidence.pk},
    )


def store_evidence(upload, *, actor: User, now: datetime, description: str = "", **owner):
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


@service
def evidence_add(
    *, dispute: Dispute, actor: User, file, description: str = "", now: datetime
) -> Evidence:
    """Attach a file: the freelancer while drafting, the client while the dispute awaits them,
    or a party a later stage allows (see EVIDENCE_STAGES).

    Files are checked by content before anything is stored; each party may attach at most
    UPLOAD_MAX_FILES files in each stage of a dispute.
    """
    current = Dispute.objects.select_related("refund_request__contract").get(pk=dispute.pk)
    drafting = actor.pk == current.refund_request.contract.freelancer_id
    if current.status == DStatus.DRAFT and drafting:
        # A draft is locked in the global order (refund request, then dispute); its status is
        # checked again under the locks.
        locked = lock_dispute_with_request(current.pk, current.refund_request_id)
        Dispute.lifecycle.check("update", locked, user=actor, now=now)
    else:
        locked = lock_dispute(dispute_id=dispute.pk)
        allow = EVIDENCE_STAGES.get(locked.status)
        if allow is not None:
            recorded_by = allow(locked, actor, now)
        else:
            Dispute.lifecycle.check("add_evidence", locked, user=actor, now=now)
            recorded_by = (Dispute.lifecycle, "add_evidence", locked)
    # The limit holds per party and stage: files of the filing do not use up the room an
    # arbitrator's later request gives.
    mine = locked.evidence.filter(uploaded_by=actor)
    if locked.status != DStatus.DRAFT and locked.stage_started_at is not None:
        mine = mine.filter(uploaded_at__gte=locked.stage_started_at)
    if mine.count() >= settings.UPLOAD_MAX_FILES:
        message = f"At most {settings.UPLOAD_MAX_FILES} files may be attached."
        raise InvalidInput(message, code="too_many_files", fields={"file": [message]})
    evidence = store_evidence(file, actor=actor, now=now, description=description, dispute=locked)
    if locked.status != DStatus.DRAFT:
        # The filing's own files go on the timeline when it is submitted.
        lifecycle, action, row = recorded_by
        perform(
            lifecycle,
            action,
            row,
            user=actor,
            now=now,
            checked=True,
            event=evidence_event(evidence),
        )
    return evidence
