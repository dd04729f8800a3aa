"""Reads for the refund request, dispute and support case pages.

Who may read what: the contract's parties read its refund requests; the freelancer reads their
dispute from the first draft, the client only once it is submitted (a draft is the freelancer's
own work in progress); a support case and its files are the freelancer's. Roles are groups:
mediation agents and arbitrators read every refund request and dispute, support every support
case — except their own cases, which they read as the party they are (no internal notes, no
draft that is not theirs). ``is_staff`` only opens the admin site. Anyone else gets Http404, as
if the object did not exist.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from core.actions import Actor, holds_role

from .models import (
    Dispute,
    DisputeMessage,
    Evidence,
    NotInThread,
    RefundRequest,
    SupportCase,
    TimelineEvent,
)

# The roles that read refund requests and disputes as staff.
CASE_READERS = (Actor.AGENT, Actor.ARBITRATOR)


def reads_cases(user: User) -> bool:
    """Whether ``user`` holds a role that reads refund requests and disputes."""
    return any(holds_role(user, actor) for actor in CASE_READERS)


def reads_support_cases(user: User) -> bool:
    return holds_role(user, Actor.SUPPORT)


def reads_as_staff(user: User, contract) -> bool:
    """Whether ``user`` reads this contract's case as staff: a role, and not one of its parties.

    Staff who are a party read their own case as that party: never its internal notes.
    """
    return user.pk not in (contract.client_id, contract.freelancer_id) and reads_cases(user)


def _contract_party(user: User, prefix: str) -> Q:
    return Q(**{f"{prefix}__client": user}) | Q(**{f"{prefix}__freelancer": user})


def disputes_visible_to(user: User, prefix: str = "") -> Q:
    """Match the disputes ``user`` may read (``prefix`` leads from the queried model)."""
    contract = f"{prefix}milestone__contract"
    as_party = Q(**{f"{contract}__freelancer": user}) | Q(
        **{f"{contract}__client": user, f"{prefix}submitted_at__isnull": False}
    )
    if not reads_cases(user):
        return as_party
    others = ~Q(**{f"{contract}__freelancer": user}) & ~Q(**{f"{contract}__client": user})
    return as_party | others


def refund_requests_visible_to(user: User, prefix: str = "") -> Q:
    """Match the refund requests ``user`` may read (``prefix`` leads to the contract)."""
    if reads_cases(user):
        return Q()
    return _contract_party(user, f"{prefix}contract")


def support_cases_visible_to(user: User, prefix: str = "") -> Q:
    """Match the support cases ``user`` may read: their own, or, for support, the cases of
    contracts they are not a party to."""
    own = Q(**{f"{prefix}opened_by": user})
    if not reads_support_cases(user):
        return own
    contract = f"{prefix}milestone__contract"
    return own | (~Q(**{f"{contract}__client": user}) & ~Q(**{f"{contract}__freelancer": user}))


def refund_request_get_for_user(*, user: User, pk: int) -> RefundRequest:
    """Return the refund request with its contract, milestone and dispute, or raise Http404."""
    requests = RefundRequest.objects.select_related(
        "contract__client", "contract__freelancer", "milestone__escrow_account", "dispute"
    )
    return get_object_or_404(requests.filter(refund_requests_visible_to(user)), pk=pk)


def dispute_get_for_user(*, user: User, pk: int) -> Dispute:
    """Return the dispute with its refund request, contract and milestone, or raise Http404."""
    disputes = Dispute.objects.select_related(
        "refund_request__contract__client",
        "refund_request__contract__freelancer",
        "milestone",
    )
    return get_object_or_404(disputes.filter(disputes_visible_to(user)), pk=pk)


def dispute_evidence(*, dispute: Dispute) -> QuerySet[Evidence]:
    """Return the dispute's files, oldest first, with who uploaded each."""
    return (
        Evidence.objects.filter(dispute=dispute)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def dispute_messages(*, dispute: Dispute) -> QuerySet[DisputeMessage]:
    """Return the dispute's messages, oldest first, with their authors (for any reader)."""
    return (
        DisputeMessage.objects.filter(dispute=dispute)
        .select_related("author")
        .order_by("created_at", "pk")
    )


def thread_for_user(*, dispute: Dispute, user: User) -> QuerySet[DisputeMessage]:
    """Return the dispute's messages for a party or the case's staff member (oldest first);
    anyone else who reads the dispute gets ``NotInThread`` (403)."""
    if not dispute.in_thread(user):
        raise NotInThread()
    return dispute_messages(dispute=dispute)


def timeline_for_viewer(
    *, refund_request: RefundRequest, user: User, role: str | None
) -> QuerySet[TimelineEvent]:
    """Return the events of the refund request and its dispute that ``user`` may read.

    Internal events (agents' notes) are for staff; the client does not learn of a draft dispute
    that lapsed, just as they never saw the draft.
    """
    events = TimelineEvent.objects.filter(refund_request=refund_request).select_related("actor")
    if not reads_as_staff(user, refund_request.contract):
        events = events.filter(internal=False)
        if role == "client" or refund_request.contract.client_id == user.pk:
            events = events.exclude(kind=TimelineEvent.Kind.DRAFT_LAPSED)
    return events.order_by("at", "pk")


def evidence_get_for_user(*, user: User, pk: int) -> Evidence:
    """Return the file, or raise Http404 unless ``user`` may read its dispute or support case."""
    files = Evidence.objects.select_related(
        "dispute__refund_request__contract", "support_case__milestone__contract"
    ).filter(
        (Q(dispute__isnull=False) & disputes_visible_to(user, prefix="dispute__"))
        | (Q(support_case__isnull=False) & support_cases_visible_to(user, "support_case__"))
    )
    return get_object_or_404(files, pk=pk)


def support_case_get_for_user(*, user: User, pk: int) -> SupportCase:
    """Return the support case for the freelancer who opened it, or support; else Http404."""
    cases = SupportCase.objects.select_related(
        "milestone__contract__client", "milestone__contract__freelancer", "opened_by"
    )
    return get_object_or_404(cases.filter(support_cases_visible_to(user)), pk=pk)


def support_case_evidence(*, case: SupportCase) -> QuerySet[Evidence]:
    return Evidence.objects.filter(support_case=case).order_by("uploaded_at", "pk")


def contracts_in_dispute(*, user: User) -> QuerySet:
    """The ids of ``user``'s contracts with a submitted dispute still open (for the history's
    filter; a draft is the freelancer's own until submitted)."""
    return Dispute.objects.filter(
        Q(refund_request__contract__client=user) | Q(refund_request__contract__freelancer=user),
        status__in=Dispute.OPEN - {Dispute.Status.DRAFT},
    ).values("refund_request__contract")
