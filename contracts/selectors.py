"""What the contract pages and the API read.

The contract history (:func:`contract_history_for_user`) serves a whole career in pages: the
contracts waiting for the user first, then the active ones, then the ended ones, newest first in
each group, filtered and searched in SQL. "Waiting for the user" is ``core.actions``'
``awaiting_contracts``: the action tables' ``awaited`` declarations, as one subquery per table.
"""

import functools
import operator
from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.shortcuts import get_object_or_404

from accounts.models import User
from core.actions import awaiting_contracts, roles_of

from .models import Account, Contract, ContractEvent, Milestone, Submission, SubmissionFile


def _party(user: User) -> Q:
    return Q(client=user) | Q(freelancer=user)


# Relations of a milestone that higher apps own (a refund request, its dispute), joined into the
# contract pages' milestone query so the pages can link to them in the same query. Each app
# registers its own from AppConfig.ready(): contracts never imports them (DESIGN §6).
_milestone_related: list[str] = []
_milestone_prefetches: list[str] = []
_milestone_detail_prefetches: dict[str, QuerySet | None] = {}


def register_milestone_related(*paths: str) -> None:
    """Join ``paths`` (single-valued relations of Milestone) into every milestone list."""
    _milestone_related.extend(p for p in paths if p not in _milestone_related)


def register_milestone_prefetch(*lookups: str) -> None:
    """Prefetch ``lookups`` (relations reached through the joined ones) with every milestone
    list: one query each per page, whatever the number of rows, for the pages' next steps."""
    _milestone_prefetches.extend(p for p in lookups if p not in _milestone_prefetches)


def register_milestone_detail_prefetch(lookup: str, queryset: QuerySet | None = None) -> None:
    """Prefetch ``lookup`` (a many-valued relation of Milestone) on the contract page."""
    _milestone_detail_prefetches[lookup] = queryset


def milestones_with_money() -> QuerySet[Milestone]:
    return (
        Milestone.objects.select_related("escrow_account", *_milestone_related)
        .prefetch_related(*_milestone_prefetches)
        .order_by("pk")
    )


def contracts_for_user(*, user: User) -> QuerySet[Contract]:
    """Return the contracts ``user`` is a party to, newest first, with milestones and escrow."""
    return (
        Contract.objects.filter(_party(user))
        .select_related("client", "freelancer")
        .prefetch_related(Prefetch("milestones", queryset=milestones_with_money()))
        .order_by("-created_at", "-pk")
    )


# --- Contract history ---------------------------------------------------------------------------

# The history's filters by state, and by the user's role, with their labels (the page's and
# the API's ``filter`` and ``role``).
HISTORY_FILTERS = {
    "needs_action": "Needs my action",
    "active": "Active",
    "in_dispute": "In dispute",
    "ended": "Ended",
}
HISTORY_ROLES = {"client": "As client", "freelancer": "As freelancer"}

# Rows of higher apps that put a contract "in dispute" (a submitted dispute still open), as
# querysets of contract ids: each app registers its own from AppConfig.ready() (DESIGN §6).
_in_dispute: list = []


def register_in_dispute(contract_ids) -> None:
    """Count a contract as in dispute while ``contract_ids()`` (a queryset of ids) holds it."""
    if contract_ids not in _in_dispute:
        _in_dispute.append(contract_ids)


@dataclass(frozen=True)
class HistoryQuery:
    """What the history shows: a state filter, a role and a search (each empty for all)."""

    filter: str = ""
    role: str = ""
    search: str = ""


def _history_states(user: User, now: datetime) -> dict[str, Q]:
    in_dispute = [Q(pk__in=ids()) for ids in _in_dispute] or [Q(pk__in=[])]
    return {
        "needs_action": awaiting_contracts(user, now=now),
        "active": Q(status=Contract.Status.ACTIVE),
        "in_dispute": functools.reduce(operator.or_, in_dispute),
        "ended": Q(status=Contract.Status.ENDED),
    }


def _history_search(user: User, search: str) -> Q:
    """Every word in the title or in the other party's username or name."""
    matches = Q()
    for word in search.split():
        other = Q()
        for field in ("username", "first_name", "last_name"):
            other |= Q(client=user, **{f"freelancer__{field}__icontains": word})
            other |= Q(freelancer=user, **{f"client__{field}__icontains": word})
        matches &= Q(title__icontains=word) | other
    return matches


def contract_history_for_user(
    *, user: User, now: datetime, query: HistoryQuery = HistoryQuery()
) -> QuerySet[Contract]:
    """The user's contracts as the history lists them, with milestones and escrow.

    Those waiting for the user (``needs_action``, annotated) first, then the active ones,
    then the ended ones; newest first within each. A fixed number of queries per page,
    whatever the size of the history.
    """
    states = _history_states(user, now)
    contracts = (
        contracts_for_user(user=user)
        .filter(_history_search(user, query.search))
        .annotate(
            needs_action=ExpressionWrapper(states["needs_action"], output_field=BooleanField()),
            history_group=Case(
                When(states["needs_action"], then=Value(0)),
                When(status=Contract.Status.ACTIVE, then=Value(1)),
                default=Value(2),
            ),
        )
        .order_by("history_group", "-created_at", "-pk")
    )
    if query.filter:
        contracts = contracts.filter(states[query.filter])
    if query.role:
        contracts = contracts.filter(**{query.role: user})
    return contracts


def contract_history_counts(
    *, user: User, now: datetime, query: HistoryQuery = HistoryQuery()
) -> dict[str, int]:
    """How many contracts each filter and each role would show beside the others (one query).

    ``""`` (all), each state filter (within the chosen role) and, prefixed ``role:``, each
    role and all roles (within the chosen filter); the search applies to all.
    """
    states = _history_states(user, now)
    roles = {role: Q(**{role: user}) for role in HISTORY_ROLES}
    in_role = roles.get(query.role, Q())
    in_state = states.get(query.filter, Q())
    counts = {"": Count("pk", filter=in_role)} if query.role else {"": Count("pk")}
    for name, condition in states.items():
        counts[name] = Count("pk", filter=condition & in_role)
    counts["role:"] = Count("pk", filter=in_state) if query.filter else Count("pk")
    for role, condition in roles.items():
        counts[f"role:{role}"] = Count("pk", filter=condition & in_state)
    return (
        Contract.objects.filter(_party(user))
        .filter(_history_search(user, query.search))
        .aggregate(**counts)
    )


def contract_get_for_user(*, user: User, pk: int) -> Contract:
    """Return the contract, or raise Http404 when ``user`` is not a party to it."""
    return get_object_or_404(contracts_for_user(user=user), pk=pk)


def _with_detail(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """``contracts`` with each milestone's submissions and their files, as the page shows them."""
    submissions = Submission.objects.select_related("submitted_by").prefetch_related("files")
    return contracts.prefetch_related(
        Prefetch("milestones__submissions", queryset=submissions.order_by("submitted_at", "pk")),
        *(
            Prefetch(f"milestones__{lookup}", queryset=queryset)
            for lookup, queryset in _milestone_detail_prefetches.items()
        ),
    )


def contract_detail_for_user(*, user: User, pk: int) -> Contract:
    """Return the contract with each milestone's submissions and their files."""
    return get_object_or_404(_with_detail(contracts_for_user(user=user)), pk=pk)


def contracts_as_read(ids) -> QuerySet[Contract]:
    """The contracts ``ids`` as their GET reads them (for the events about them)."""
    return _with_detail(
        Contract.objects.filter(pk__any=list(ids))
        .select_related("client", "freelancer")
        .prefetch_related(Prefetch("milestones", queryset=milestones_with_money()))
    )


def milestone_get_for_user(*, user: User, pk: int) -> Milestone:
    """Return the milestone, or raise Http404 when ``user`` is not a party to its contract."""
    return get_object_or_404(
        Milestone.objects.select_related(
            "escrow_account", "contract__client", "contract__freelancer"
        ).filter(Q(contract__client=user) | Q(contract__freelancer=user)),
        pk=pk,
    )


def accounts_for_user(*, user: User) -> QuerySet[Account]:
    """Return the user's own ledger accounts (funding source, earnings, refunds)."""
    return Account.objects.filter(owner=user).order_by("currency", "kind", "pk")


def submission_file_get_for_user(*, user: User, pk: int) -> SubmissionFile:
    """Return the file, or raise Http404 unless ``user`` is a party to its contract or holds a
    staff role (roles are groups; ``is_staff`` only opens the admin site)."""
    files = SubmissionFile.objects.select_related("submission__milestone__contract")
    if not roles_of(user):
        files = files.filter(
            Q(submission__milestone__contract__client=user)
            | Q(submission__milestone__contract__freelancer=user)
        )
    return get_object_or_404(files, pk=pk)


def _submissions_with_files() -> QuerySet[Submission]:
    return (
        Submission.objects.select_related("submitted_by")
        .prefetch_related("files")
        .order_by("submitted_at", "pk")
    )


def with_work(contracts: QuerySet[Contract]) -> QuerySet[Contract]:
    """``contracts`` with each milestone's submissions and their files."""
    return contracts.prefetch_related(
        Prefetch("milestones__submissions", queryset=_submissions_with_files())
    )


def contracts_with_work_for_user(*, user: User) -> QuerySet[Contract]:
    """Return ``contracts_for_user`` with each milestone's submissions and their files."""
    return with_work(contracts_for_user(user=user))


def _milestones_as_read() -> QuerySet[Milestone]:
    return Milestone.objects.select_related(
        "escrow_account", "contract__client", "contract__freelancer"
    ).prefetch_related(Prefetch("submissions", queryset=_submissions_with_files()))


def milestone_detail_for_user(*, user: User, pk: int) -> Milestone:
    """Return the milestone with its submissions and files, or raise Http404 for a non-party."""
    return get_object_or_404(
        _milestones_as_read().filter(Q(contract__client=user) | Q(contract__freelancer=user)),
        pk=pk,
    )


def milestones_as_read(ids) -> QuerySet[Milestone]:
    """The milestones ``ids`` as their GET reads them (for the events about them)."""
    return _milestones_as_read().filter(pk__any=list(ids))


def contract_activity(*, contract: Contract) -> list[ContractEvent]:
    """The contract's own timeline, oldest first, with who acted (one query)."""
    return list(
        ContractEvent.objects.filter(contract=contract).select_related("actor").order_by("at", "pk")
    )


def have_a_contract(one: User, other: User) -> bool:
    """Whether ``one`` and ``other`` are the two parties of some contract."""
    return Contract.objects.filter(
        Q(client=one, freelancer=other) | Q(client=other, freelancer=one)
    ).exists()
