"""What staff read of a case goes to the audit log (``core.audit``).

Each page or API answer that shows a refund request, a dispute or a support case calls
:func:`case_read` (with the timeline it shows, whose internal notes are a read of their own),
each showing of a dispute's messages :func:`messages_read`, each download of a case's file
:func:`file_read`, and a dossier download :func:`dossier_read` (all of those at once). A party
reading their own case records nothing; anyone else who can read it reads it as staff.
"""

from __future__ import annotations

from collections.abc import Iterable

from core import audit

from .models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent


def reads_are_recorded(user) -> bool:
    """Whether ``user``'s reads of a case go on the record, so each is read afresh, never served
    from what ``core.stamps`` keeps: staff's (a party reading their own case is not recorded)."""
    return user.is_staff


def _contract_of(case):
    if isinstance(case, Dispute):
        return case.refund_request.contract
    if isinstance(case, RefundRequest):
        return case.contract
    if isinstance(case, SupportCase):
        return case.milestone.contract
    raise TypeError(f"Not a case: {case!r}")


def case_read(
    *, user, case, via: str, events: Iterable[TimelineEvent] | None = None, notes: int = 0
) -> None:
    """Record that ``user`` read ``case`` through ``via``, and its internal notes when the
    page showed some (counted in ``events``, or given as ``notes``)."""
    contract = _contract_of(case)
    if not audit.read(user=user, obj=case, what=audit.CASE, contract=contract, via=via):
        return
    if events is not None:
        notes = sum(1 for event in events if event.internal)
    if notes:
        audit.read(
            user=user,
            obj=case,
            what=audit.INTERNAL_NOTES,
            contract=contract,
            via=via,
            detail=f"{notes} internal note{'s' if notes != 1 else ''} of {case}",
        )


def messages_read(*, user, dispute: Dispute, via: str, count: int) -> None:
    """Record that ``user`` read ``count`` messages of the dispute's thread as staff."""
    if not count:
        return
    audit.read(
        user=user,
        obj=dispute,
        what=audit.MESSAGES,
        contract=_contract_of(dispute),
        via=via,
        detail=f"{count} message{'s' if count != 1 else ''} of {dispute}",
    )


def dossier_read(*, user, dispute: Dispute, dossier, via: str) -> None:
    """Record that ``user`` downloaded the dispute's dossier (``disputes.dossier``): a read of
    the case and its internal notes, of its messages and of each evidence file it holds."""
    case_read(user=user, case=dispute, via=via, events=dossier.events)
    messages_read(user=user, dispute=dispute, via=via, count=dossier.messages)
    for evidence in dossier.evidence:
        file_read(user=user, evidence=evidence, via=via)


def internal_notes_of(case) -> int:
    """How many internal notes an admin page of ``case`` shows (its timeline inline)."""
    if isinstance(case, Dispute):
        return TimelineEvent.objects.filter(dispute=case, internal=True).count()
    if isinstance(case, RefundRequest):
        return TimelineEvent.objects.filter(refund_request=case, internal=True).count()
    return 0


def file_read(*, user, evidence: Evidence, via: str) -> None:
    """Record that ``user`` downloaded ``evidence`` (a dispute's or a support case's file)."""
    case = evidence.dispute if evidence.dispute_id is not None else evidence.support_case
    audit.read(
        user=user,
        obj=evidence,
        what=audit.EVIDENCE,
        contract=_contract_of(case),
        via=via,
        detail=f"“{evidence.name}” of {case}",
    )


def list_read(*, user, request) -> None:
    """Record that ``user`` read a list of cases as staff (one entry for the page asked)."""
    audit.list_read(user=user, what=audit.CASE_LIST, via=f"the API: {request.get_full_path()}")
