"""Reads for the refund request, dispute and support case pages.

Who may read what: the contract's parties read its refund requests; the freelancer reads their
dispute from the first draft, the client only once it is submitted (a draft is the freelancer's
own work in progress); a support case and its files are the freelancer's. Staff (``is_staff``)
read everything. Anyone else gets Http404, as if the object did not exist.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent


def _contract_party(user: User, prefix: str) -> Q:
    return Q(**{f"{prefix}__client": user}) | Q(**{f"{prefix}__freelancer": user})


def _disputes_visible_to(user: User, prefix: str = "") -> Q:
    """Match the disputes ``user`` may read (``prefix`` leads from the queried model)."""
    contract = f"{prefix}milestone__contract"
    return Q(**{f"{contract}__freelancer": user}) | Q(
        **{f"{contract}__client": user, f"{prefix}submitted_at__isnull": False}
    )


def refund_request_get_for_user(*, user: User, pk: int) -> RefundRequest:
    """Return the refund request with its contract, milestone and dispute, or raise Http404."""
    requests = RefundRequest.objects.select_related(
        "contract__client", "contract__freelancer", "milestone__escrow_account", "dispute"
    )
    if not user.is_staff:
        requests = requests.filter(_contract_party(user, "contract"))
    return get_object_or_404(requests, pk=pk)


def dispute_get_for_user(*, user: User, pk: int) -> Dispute:
    """Return the dispute with its refund request, contract and milestone, or raise Http404."""
    disputes = Dispute.objects.select_related(
        "refund_request__contract__client",
        "refund_request__contract__freelancer",
        "milestone",
    )
    if not user.is_staff:
        disputes = disputes.filter(_disputes_visible_to(user))
    return get_object_or_404(disputes, pk=pk)


def dispute_evidence(*, dispute: Dispute) -> QuerySet[Evidence]:
    """Return the dispute's files, oldest first, with who uploaded each."""
    return (
        Evidence.objects.filter(dispute=dispute)
        .select_related("uploaded_by")
        .order_by("uploaded_at", "pk")
    )


def timeline_for_viewer(
    *, refund_request: RefundRequest, user: User, role: str | None
) -> QuerySet[TimelineEvent]:
    """Return the events of the refund request and its dispute that ``user`` may read.

    Internal events (agents' notes) are for staff; the client does not learn of a draft dispute
    that lapsed, just as they never saw the draft.
    """
    events = TimelineEvent.objects.filter(refund_request=refund_request).select_related("actor")
    if not user.is_staff:
        events = events.filter(internal=False)
    if role == "client" and not user.is_staff:
        events = events.exclude(kind=TimelineEvent.Kind.DRAFT_LAPSED)
    return events.order_by("at", "pk")


def evidence_get_for_user(*, user: User, pk: int) -> Evidence:
    """Return the file, or raise Http404 unless ``user`` may read its dispute or support case."""
    files = Evidence.objects.all()
    if not user.is_staff:
        files = files.filter(
            _disputes_visible_to(user, prefix="dispute__") | Q(support_case__opened_by=user)
        )
    return get_object_or_404(files, pk=pk)


def support_case_get_for_user(*, user: User, pk: int) -> SupportCase:
    """Return the support case for the freelancer who opened it, or staff; else Http404."""
    cases = SupportCase.objects.select_related(
        "milestone__contract__client", "milestone__contract__freelancer", "opened_by"
    )
    if not user.is_staff:
        cases = cases.filter(opened_by=user)
    return get_object_or_404(cases, pk=pk)


def support_case_evidence(*, case: SupportCase) -> QuerySet[Evidence]:
    return Evidence.objects.filter(support_case=case).order_by("uploaded_at", "pk")
