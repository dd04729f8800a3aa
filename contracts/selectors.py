"""What the contract pages and the API read.

The contract history (:func:`contract_history_for_user`) serves a whole career in pages: the
contracts waiting for the user first, then the active ones, then the ended ones, newest first in
each group, filtered and searched in SQL. "Waiting for the user" is ``core.actions``'
``awaiting_contracts``: the action tables' ``awaited`` declarations, as one subquery per table.
Those subqueries are the costly part to plan and run, so a request reads the ids of the waiting
contracts once (:func:`contracts_waiting_for`: as many as the user has to-dos, whatever the
size of the history) and the list and the counts use them as a plain ``id = ANY(…)``.
"""

import functools
import operator
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connections, router
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
from core import db
from core.actions import awaiting_contracts, may_act, roles_of
from core.lookups import Ids, int_array

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
        Milestone.objects.select_related("escrow_account", "terms", *_milestone_related)
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
    """Count a contract as in dispute while ``contract_ids(user=)`` (a queryset of the ids of
    the user's contracts) holds it."""
    if contract_ids not in _in_dispute:
        _in_dispute.append(contract_ids)


@dataclass(frozen=True)
class HistoryQuery:
    """What the history shows: a state filter, a role and a search (each empty for all)."""

    filter: str = ""
    role: str = ""
    search: str = ""


def _in_dispute_q(user: User) -> Q:
    in_dispute = [Q(pk__in=ids(user=user)) for ids in _in_dispute]
    return functools.reduce(operator.or_, in_dispute, Q(pk__in=[]))


def contracts_waiting_for(*, user: User, now: datetime) -> Ids:
    """The ids of the user's contracts on which something waits for them to act now (none
    while they may not act: :func:`core.actions.may_act`)."""
    if not may_act(user):
        return Ids()
    alias = router.db_for_read(Contract)
    _columns, rows = _WAITING.rows(alias, user_id=user.pk, now=now)
    return Ids(row[0] for row in rows)


def _waiting_ids(*, user_id: int, now: datetime) -> QuerySet:
    someone = User(pk=user_id)
    return (
        Contract.objects.filter(_party(someone))
        .filter(awaiting_contracts(someone, now=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# Compiled once per process and database: building it from every action table costs more than
# running it (the tables and their deadlines do not change once the apps are ready). The stand-ins
# are an id no row has and a time no deadline holds.
_WAITING = db.Compiled(
    _waiting_ids,
    {"user_id": -(2**53) + 11, "now": datetime(1901, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)},
)


def _history_filter(name: str, user: User) -> Q:
    """The condition of the state filter ``name`` on rows annotated by ``_history_rows``."""
    return {
        "needs_action": Q(needs_action=True),
        "active": Q(status=Contract.Status.ACTIVE),
        "in_dispute": _in_dispute_q(user),
        "ended": Q(status=Contract.Status.ENDED),
    }[name]


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


def _history_rows(
    contracts: QuerySet[Contract], *, user: User, waiting: Ids | list[int], search: str
):
    """``contracts`` that match ``search``, each annotated with whether it waits for ``user``
    (its id is one of ``waiting``)."""
    needs_action = ExpressionWrapper(Q(pk__among=waiting), output_field=BooleanField())
    return contracts.filter(_history_search(user, search)).annotate(needs_action=needs_action)


def contract_history_for_user(
    *,
    user: User,
    now: datetime,
    query: HistoryQuery = HistoryQuery(),
    waiting: Ids | list[int] | None = None,
) -> QuerySet[Contract]:
    """The user's contracts as the history lists them, with milestones and escrow.

    Those waiting for the user (``needs_action``, annotated; ``waiting`` are their ids, read
    when not given) first, then the active ones, then the ended ones; newest first within
    each. A fixed number of queries per page, whatever the size of the history.
    """
    if waiting is None:
        waiting = contracts_waiting_for(user=user, now=now)
    contracts = _history_rows(
        contracts_for_user(user=user), user=user, waiting=waiting, search=query.search
    ).order_by(
        "-needs_action",
        Case(When(status=Contract.Status.ACTIVE, then=Value(0)), default=Value(1)),
        "-created_at",
        "-pk",
    )
    if query.filter:
        contracts = contracts.filter(_history_filter(query.filter, user))
    if query.role:
        contracts = contracts.filter(**{query.role: user})
    return contracts


def contract_history_counts(
    *,
    user: User,
    now: datetime,
    query: HistoryQuery = HistoryQuery(),
    waiting: Ids | list[int] | None = None,
) -> dict[str, int]:
    """How many contracts each filter and each role would show beside the others.

    ``""`` (all) and each state filter within the chosen role; ``"role:"`` (any role) and
    ``"role:<role>"`` within the chosen filter; the search applies to all. One query: the
    user's contracts grouped by what the filters look at (at most 16 groups).
    """
    if waiting is None:
        waiting = contracts_waiting_for(user=user, now=now)
    alias = router.db_for_read(Contract)
    if query.search or connections[alias].vendor != "postgresql":
        groups = _count_groups(user_id=user.pk, waiting=waiting, search=query.search)
    else:  # the usual request, compiled once: only the user and the waiting ids change
        columns, rows = _COUNTS.rows(alias, user_id=user.pk, waiting=int_array(waiting))
        groups = [dict(zip(columns, row, strict=True)) for row in rows]

    def states(group) -> dict[str, bool]:
        return {
            "": True,
            "needs_action": bool(group["needs_action"]),
            "active": group["status"] == Contract.Status.ACTIVE,
            "in_dispute": bool(group["in_dispute"]),
            "ended": group["status"] == Contract.Status.ENDED,
        }

    def roles(group) -> dict[str, bool]:
        return {"": True, "client": bool(group["as_client"]), "freelancer": not group["as_client"]}

    counts = dict.fromkeys(
        ["", *HISTORY_FILTERS, "role:", *(f"role:{r}" for r in HISTORY_ROLES)], 0
    )
    for group in groups:
        in_state, in_role = states(group), roles(group)
        for name, matches in in_state.items():
            if matches and in_role[query.role]:
                counts[name] += group["contracts"]
        for role, matches in in_role.items():
            if matches and in_state[query.filter]:
                counts[f"role:{role}"] += group["contracts"]
    return counts


def _count_groups(*, user_id: int, waiting, search: str = "") -> QuerySet:
    """The user's contracts grouped by what the filters look at, with the size of each group."""
    user = User(pk=user_id)
    return (
        _history_rows(
            Contract.objects.filter(_party(user)), user=user, waiting=waiting, search=search
        )
        .annotate(
            in_dispute=ExpressionWrapper(_in_dispute_q(user), output_field=BooleanField()),
            as_client=ExpressionWrapper(Q(client=user), output_field=BooleanField()),
        )
        .values("needs_action", "in_dispute", "as_client", "status")
        .annotate(contracts=Count("pk"))
        .order_by()
    )


# PostgreSQL only (elsewhere ``__among`` sends one placeholder per id): the ids are one array.
_COUNTS = db.Compiled(
    lambda user_id, waiting: _count_groups(user_id=user_id, waiting=[int(waiting.strip("{}"))]),
    {"user_id": -(2**53) + 13, "waiting": "{-9007199254740977}"},
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
