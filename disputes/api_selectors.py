"""The lists the REST API reads: refund requests, disputes and support cases a user may see.

One object at a time, the API reads through ``disputes.selectors`` (shared with the browser
pages); the lists live here and apply the same rule: the contract's parties read its refund
requests; the freelancer reads a dispute from its first draft, the client only once it is
submitted; a support case is the freelancer's who opened it; staff roles read what their role
needs, except their own cases (``disputes.selectors``).
Each list is one query (plus the paginator's count) whatever the number of rows.
"""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import Dispute, Evidence, RefundRequest, SupportCase
from .selectors import disputes_visible_to, refund_requests_visible_to, support_cases_visible_to


def refund_requests_for_user(*, user: User) -> QuerySet[RefundRequest]:
    """Return the refund requests ``user`` may read, newest first, with contract and dispute."""
    requests = RefundRequest.objects.select_related("contract", "dispute")
    return requests.filter(refund_requests_visible_to(user)).order_by("-created_at", "-pk")


def disputes_for_user(*, user: User) -> QuerySet[Dispute]:
    """Return the disputes ``user`` may read, newest first, with refund request and contract."""
    disputes = Dispute.objects.select_related("refund_request__contract")
    return disputes.filter(disputes_visible_to(user)).order_by("-created_at", "-pk")


def _evidence_with_uploader() -> QuerySet[Evidence]:
    return Evidence.objects.select_related("uploaded_by").order_by("uploaded_at", "pk")


def support_cases_for_user(*, user: User) -> QuerySet[SupportCase]:
    """Return the support cases ``user`` opened (support: all), newest first, with their files."""
    cases = SupportCase.objects.select_related("milestone").prefetch_related(
        Prefetch("evidence", queryset=_evidence_with_uploader())
    )
    return cases.filter(support_cases_visible_to(user)).order_by("-created_at", "-pk")


def support_case_detail_for_user(*, user: User, pk: int) -> SupportCase:
    """Return one support case with its files, or raise Http404 (see ``support_cases_for_user``)."""
    return get_object_or_404(support_cases_for_user(user=user), pk=pk)
