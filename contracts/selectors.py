from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User
from core.actions import roles_of

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


def contracts_with_work_for_user(*, user: User) -> QuerySet[Contract]:
    """Return ``contracts_for_user`` with each milestone's submissions and their files."""
    return contracts_for_user(user=user).prefetch_related(
        Prefetch("milestones__submissions", queryset=_submissions_with_files())
    )


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
