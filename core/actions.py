"""Declared actions: the one way a status changes anywhere in the project.

Every stateful model keeps, beside its ``Status``, one :class:`Lifecycle`: a table of named
:class:`Action` rows, each saying which states it leaves from (``sources``), where it goes
(``target``; None when the status stays and only other columns change), who may take it
(``actors``: the client or freelancer of the row's contract, a mediation agent, an arbitrator,
support, or the system), the deadline a person must act before (``before``) or the system acts
after (``after``), and any further condition (``guard``). The rule lives in the table, keyed by
the action, never in a view or a serializer.

:func:`perform` is the only code that writes a status. For one row or a whole sweep batch it

1. checks the table: the state (``IllegalTransition``, 409), the person and their role (403:
   ``not_the_client``…, ``conflict_of_interest`` for staff who are a party), the deadline
   (``deadline_passed``, 409) and the guard;
2. writes the status with ``UPDATE … WHERE pk = ANY(…) AND status IN (sources)`` and fails if
   a row was not in a source state (the caller holds the row locks; the condition makes a
   missed lock an error instead of a lost update);
3. appends the timeline events through the lifecycle's timeline writer, records the
   notifications, the events the action emits for integrators (``emits`` on the action,
   ``entering`` on the table: see ``webhooks.events``) and, when a person acts in a staff
   role, the audit log's entry (``core.audit``; never for the system) — all in the caller's
   transaction, so a rollback leaves no trace and a commit always has them;
4. runs what the table declares must follow whenever rows enter a state
   (:meth:`Lifecycle.on_entering`: a dispute that closes, by whichever action, lapses its open
   settlement offers), in the same transaction.

*A deadline decides, even before the sweep.* Before a person acts, :meth:`Lifecycle.check`
applies whatever the row's own passed deadlines did (the refund, the release, the notice the
sweep would have made), so a late sweep never changes a person's outcome. When the deadline
applied is the one the action had to come before, it raises :class:`DeadlineSettled`. Services
run in :func:`service` (or :func:`atomic`), which commits what the deadline did before the
refusal leaves, so the person's late click gets a 409 and the row the outcome its deadline
gives, exactly as if the sweep had run on time.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from django.db import connection, transaction
from django.db.models import Case, Q, Value, When
from django.utils.module_loading import import_string

from accounts import cached
from accounts.models import Role

from . import bulk, stamps
from .errors import (
    AccountSuspended,
    ConflictOfInterest,
    DeadlinePassed,
    DeadlineSettled,
    DomainError,
    IllegalTransition,
    NotAllowed,
    NotAnAgent,
    NotAnArbitrator,
    NotAParty,
    NotTheClient,
    NotTheFreelancer,
    StaleRow,
)


class Actor(StrEnum):
    CLIENT = "client"
    FREELANCER = "freelancer"
    AGENT = "agent"
    ARBITRATOR = "arbitrator"
    SUPPORT = "support"
    OWNER = "owner"  # the one person a row belongs to (a webhook endpoint's owner)
    SYSTEM = "system"


PARTIES = frozenset({Actor.CLIENT, Actor.FREELANCER})
STAFF = frozenset({Actor.AGENT, Actor.ARBITRATOR, Actor.SUPPORT})
# The role (a Django group) that makes a user each staff actor (superusers hold every role).
STAFF_GROUPS = {
    Actor.AGENT: Role.MEDIATION_AGENT.value,
    Actor.ARBITRATOR: Role.ARBITRATOR.value,
    Actor.SUPPORT: Role.SUPPORT.value,
}


_ACTOR_REFUSALS: dict[frozenset, Callable[[], DomainError]] = {
    frozenset({Actor.CLIENT}): NotTheClient,
    frozenset({Actor.FREELANCER}): NotTheFreelancer,
    PARTIES: NotAParty,
    frozenset({Actor.AGENT}): NotAnAgent,
    frozenset({Actor.ARBITRATOR}): NotAnArbitrator,
    frozenset({Actor.AGENT, Actor.ARBITRATOR}): lambda: NotAllowed(
        "Only mediation agents and arbitrators can take this action."
    ),
    frozenset({Actor.SUPPORT}): lambda: NotAllowed("Only support staff can take this action."),
    frozenset({Actor.OWNER}): lambda: NotAllowed("Only its owner can take this action."),
}


# --- The table ----------------------------------------------------------------------------------


Guard = Callable[..., DomainError | None]


@dataclass(frozen=True)
class Action:
    """One named action of a stateful model (see the module docstring)."""

    name: str
    sources: frozenset[str]
    target: str | None
    actors: frozenset[Actor]
    # The deadline kind a person must act before: its name (on the row, or on the row at the
    # dotted path ``before_via``), or a function ``row -> (DeadlineKind, row) | None``.
    before: str | Callable[[Any], tuple | None] = ""
    before_via: str = ""
    after: str = ""  # a deadline kind whose sweep takes this (system) action once it passed
    # ``guard(row, actor=, user=, now=)`` returns the refusal (a DomainError) or None.
    guard: Guard | None = None
    # What a person who is neither of ``actors`` gets (default: by the actors, e.g. NotTheClient).
    refuse_actor: Callable[[], DomainError] | None = None
    # What a row in a state outside ``sources`` gets (default: IllegalTransition).
    refuse_state: Callable[[Any], DomainError] | None = None
    label: str = ""  # "answer this refund request": "The deadline to <label> passed on …"
    late: str = ""  # or the whole refusal, with {when}: "The arbitration window closed {when}."
    outcome: str = ""  # the state word refusals name when ``target`` is None ("released")
    # The event types (``webhooks.catalog``) each row the action is taken on emits, in order.
    emits: str | tuple[str, ...] = ()
    # The states (among ``sources``) in which the row waits for one of ``actors`` to take this
    # action: a to-do of theirs, which the contract history puts first. Empty: nobody is ever
    # asked to take it (they may, but nothing waits for them).
    awaited: frozenset[str] = frozenset()
    # ``awaited_if(actor) -> Q``: what ``guard`` checks (or, where the answer is kept on a
    # related row, that row's guard), as a filter on this model's rows. A guard is Python and
    # reads one row; a list that finds the to-dos of a whole history needs them as SQL, in one
    # query. ``Lifecycle.awaits`` and ``Lifecycle.awaiting`` say the same of a row (tested).
    awaited_if: Callable[[Actor], Q] | None = None

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.sources))
        object.__setattr__(self, "actors", frozenset(Actor(a) for a in self.actors))
        object.__setattr__(self, "awaited", frozenset(self.awaited))
        if isinstance(self.emits, str):
            object.__setattr__(self, "emits", (self.emits,))
        if not self.awaited <= self.sources:
            raise ValueError(f"{self.name}: awaited in states it does not leave from")
        if self.awaited and self.guard is not None and self.awaited_if is None:
            raise ValueError(f"{self.name}: an awaited action with a guard needs awaited_if")

    @property
    def by_system(self) -> bool:
        return Actor.SYSTEM in self.actors

    @property
    def by_people(self) -> bool:
        return bool(self.actors - {Actor.SYSTEM})


@dataclass
class Event:
    """A timeline entry an action writes for one row; the lifecycle's writer places it."""

    kind: str
    note: str = ""
    amounts: Mapping[str, str] = field(default_factory=dict)
    deadline: tuple[str, str, datetime] | None = None  # (kind, party, due_at) after the event
    internal: bool = False
    actor_id: int | None = None  # who acted, when not the performer (e.g. an upload's owner)
    refs: Mapping[str, int | None] = field(default_factory=dict)  # more columns: evidence_id…


class Lifecycle:
    """The declared actions of one stateful model, and how to read its rows for them.

    ``contract`` is the path from a row to its contract (``""`` for a contract itself), which
    gives the parties; a row that belongs to one person instead names the path to that person's
    id in ``owner`` (the row's one party, ``Actor.OWNER``). ``conflicts(row, user, actor)`` adds
    conflicts of interest beyond being a party (an arbitrator who mediated the case).
    ``timeline`` is the dotted path of the writer ``write(rows_and_events, actor, now)`` that
    appends this model's events.

    What integrators are told (``webhooks.events``): each action's ``emits``, the types in
    ``entering`` when an action moves a row into that state, and ``created`` when a service
    creates rows (:func:`record_created`). The events are about the ``subject``: the model and the
    path from a row to its id, by default the row itself (a resolution's are about its
    dispute).
    """

    def __init__(
        self,
        *,
        name: str,
        statuses: type,
        actions: Iterable[Action],
        contract: str = "",
        owner: str = "",
        initial: Iterable[str] = (),
        status_field: str = "status",
        conflicts: Callable[[Any, Any, Actor], bool] | None = None,
        timeline: str = "",
        created: str = "",
        entering: Mapping[str, str] | None = None,
        subject: tuple[str, str] | None = None,
    ):
        self.name = name
        self.statuses = statuses
        self.actions = {action.name: action for action in actions}
        self.contract_path = contract
        self.owner_path = owner
        self.initial = frozenset(initial)
        self.status_field = status_field
        self.conflicts = conflicts
        self.timeline_path = timeline
        self.created_emits = (created,) if created else ()
        self.entering = dict(entering or {})
        self.followers: dict[str, list[str]] = {}
        self._subject = subject
        self.model = None  # bound by contribute_to_class
        unknown = {
            state
            for action in self.actions.values()
            for state in (*action.sources, action.target)
            if state is not None and state not in statuses.values
        } | (set(self.entering) - set(statuses.values))
        if unknown:
            raise ValueError(f"{name}: unknown states {sorted(unknown)}")

    def declare(self, *actions: Action) -> None:
        """Add actions to the table: a higher app declares those of the stages it owns."""
        for action in actions:
            if action.name in self.actions:
                raise ValueError(f"{self.name}: action {action.name} is declared already")
            unknown = {s for s in (*action.sources, action.target) if s is not None} - set(
                self.statuses.values
            )
            if unknown:
                raise ValueError(f"{self.name}.{action.name}: unknown states {sorted(unknown)}")
            self.actions[action.name] = action

    def on_entering(self, state: str, handler: str) -> None:
        """Declare that whenever rows enter ``state``, by whichever action, the function at the
        dotted path ``handler`` follows: ``handler(rows, now=)`` with the rows as they are now,
        in the same transaction. A higher app declares what its own rows owe the change (the
        open offers of a dispute that closes), so no caller has to remember it."""
        if state not in self.statuses.values:
            raise ValueError(f"{self.name}: unknown state {state}")
        handlers = self.followers.setdefault(state, [])
        if handler not in handlers:
            handlers.append(handler)

    def contribute_to_class(self, model, name):
        """Bind to the model when declared as a class attribute (``lifecycle = Lifecycle(…)``)."""
        self.model = model
        setattr(model, name, self)
        if self not in _lifecycles:
            _lifecycles.append(self)

    def __getitem__(self, name: str) -> Action:
        return self.actions[name]

    @property
    def subject(self) -> tuple[str, str]:
        """The model the rows' events are about (``app_label.ModelName``), and the path from a
        row to its id."""
        return self._subject or (self.model._meta.label, "pk")

    def emits(self, action: Action) -> tuple[str, ...]:
        """The event types each row ``action`` is taken on emits: its own, then its target's."""
        entered = self.entering.get(action.target) if action.target is not None else None
        return (*action.emits, *((entered,) if entered else ()))

    def __iter__(self):
        return iter(self.actions.values())

    # Reading a row.

    def status_of(self, row) -> str:
        return getattr(row, self.status_field)

    def contract_of(self, row):
        obj = row
        for part in filter(None, self.contract_path.split(".")):
            obj = getattr(obj, part)
        return obj

    def party_ids(self, batch: Sequence) -> set[int]:
        """The ids of the people ``batch``'s rows belong to: their contracts' two parties, or
        their owners. Read from the rows where their path to the contract is loaded (or, on a
        stand-in for a row, given), else for all the others in one query."""
        if self.owner_path:
            return {self.parties_of(row).popitem()[0] for row in batch}
        parts = [part for part in self.contract_path.split(".") if part]
        ids: set[int] = set()
        missing = []
        for row in batch:
            obj = row
            for part in parts:
                state = getattr(obj, "_state", None)  # else a stand-in that holds what it holds
                # A loaded foreign key is in its row's fields cache, under the field's name.
                obj = getattr(obj, part, None) if state is None else state.fields_cache.get(part)
                if obj is None:
                    break
            if obj is None:
                missing.append(row.pk)
            else:
                ids.update((obj.client_id, obj.freelancer_id))
        if missing:
            prefix = "__".join(parts) + "__" if parts else ""
            for pair in self.model._base_manager.filter(pk__in=missing).values_list(
                f"{prefix}client_id", f"{prefix}freelancer_id"
            ):
                ids.update(pair)
        return ids

    def parties_of(self, row) -> dict[int, Actor]:
        if self.owner_path:
            owner = row
            for part in self.owner_path.split("."):
                owner = getattr(owner, part)
            return {owner: Actor.OWNER}
        contract = self.contract_of(row)
        return {contract.client_id: Actor.CLIENT, contract.freelancer_id: Actor.FREELANCER}

    # Checking.

    def actor_of(self, action: Action, row, user) -> Actor:
        """Return the actor ``user`` is for ``action`` on ``row``, or raise why not."""
        if not may_act(user):
            raise AccountSuspended()
        party = self.parties_of(row).get(user.pk)
        if party is not None and party in action.actors:
            return party
        staff = [actor for actor in sorted(action.actors & STAFF) if holds_role(user, actor)]
        for actor in staff:
            conflict = self.conflict_of(row, user, actor)
            if conflict is not None:
                raise conflict
            return actor
        refusal = action.refuse_actor or _ACTOR_REFUSALS.get(
            frozenset(action.actors - {Actor.SYSTEM}), NotAllowed
        )
        raise refusal()

    def conflict_of(self, row, user, actor: Actor) -> ConflictOfInterest | None:
        """Why ``user`` may not act on ``row`` as the staff ``actor``, or None.

        Nobody decides their own case: a party of the row's contract never acts on it as
        staff; and the table's own ``conflicts`` (an arbitrator who mediated the dispute).
        """
        if user.pk in self.parties_of(row):
            return ConflictOfInterest()
        if self.conflicts is not None and self.conflicts(row, user, actor):
            return ConflictOfInterest(
                "You mediated this dispute, so you cannot also arbitrate it: another arbitrator "
                "has to."
            )
        return None

    def check(self, name: str, row, *, user, now: datetime) -> Actor:
        """Raise why ``user`` may not take action ``name`` on the locked ``row`` now.

        Checks, in this order: the person and their role, the state, the deadline, the guard.
        A passed deadline that has an action of its own is applied to the row before the
        refusal (see the module docstring). Returns the actor ``user`` acts as.
        """
        action = self.actions[name]
        if user is None:
            if not action.by_system:
                raise RuntimeError(f"{self.name}.{name} is not a system action")
            actor = Actor.SYSTEM
        else:
            actor = self.actor_of(action, row, user)
            _catch_up(action, row, now)
        self._check_state(action, row)
        if action.before and user is not None:
            _check_before(action, row, now)
        if action.guard is not None:
            refusal = action.guard(row, actor=actor, user=user, now=now)
            if refusal is not None:
                raise refusal
        return actor

    def allows(self, name: str, row, *, user, now: datetime) -> bool:
        """Whether ``check`` would pass, without applying any deadline (for pages and queues)."""
        action = self.actions[name]
        try:
            actor = Actor.SYSTEM if user is None else self.actor_of(action, row, user)
            self._check_state(action, row)
            if action.before and user is not None:
                kind, deadline_row = _deadline_of(action, row)
                due = kind.due_at(deadline_row) if kind is not None else None
                if due is not None and now >= due:
                    return False
            if action.guard is not None:
                return action.guard(row, actor=actor, user=user, now=now) is None
        except DomainError:
            return False
        return True

    # What waits for a party.

    def awaits(self, row, *, user, now: datetime) -> bool:
        """Whether ``row`` waits for ``user`` to act now: an action it is ``awaited`` in that
        :meth:`allows` ``user`` to take."""
        status = self.status_of(row)
        return any(
            status in action.awaited and self.allows(action.name, row, user=user, now=now)
            for action in self.actions.values()
        )

    def awaiting(self, actor: Actor, *, now: datetime) -> Q | None:
        """The rows that wait for ``actor`` to act now, as a filter (None: no row ever does).

        :meth:`awaits` as SQL, derived from the same table: the states each of the actor's
        actions is ``awaited`` in, the due column of the deadline it must come before still
        ahead, and its ``awaited_if``.
        """
        terms: list[Q] = []
        for action in self.actions.values():
            if not action.awaited or actor not in action.actors:
                continue
            term = Q(**{f"{self.status_field}__in": sorted(action.awaited)})
            if action.before:
                term &= Q(**{f"{self._due_lookup(action)}__gt": now})
            if action.awaited_if is not None:
                term &= action.awaited_if(actor)
            if term not in terms:
                terms.append(term)
        return functools.reduce(operator.or_, terms) if terms else None

    def _due_lookup(self, action: Action) -> str:
        """The ORM path from a row to the due column of the deadline ``action`` comes before."""
        from . import deadlines

        if callable(action.before):
            raise TypeError(f"{self.name}.{action.name}: awaited before a computed deadline")
        model = self.model
        path = [part for part in action.before_via.split(".") if part]
        for part in path:
            model = model._meta.get_field(part).related_model
        due = deadlines.kind(action.before, model).due
        if callable(due):
            raise TypeError(f"{self.name}.{action.name}: {action.before} has no due column")
        return "__".join([*path, *due.split(".")])

    def ensure_state(self, name: str, row) -> None:
        """Raise unless ``row`` is in a state action ``name`` leaves from (no other check)."""
        self._check_state(self.actions[name], row)

    def _check_state(self, action: Action, row) -> None:
        status = self.status_of(row)
        if status in action.sources:
            return
        if action.refuse_state is not None:
            raise action.refuse_state(row)
        raise IllegalTransition(
            model=self.name, current=status, target=action.target or action.outcome or status
        )


_lifecycles: list[Lifecycle] = []


def may_act(user) -> bool:
    """Whether ``user`` may take any action at all: a suspended account takes none, so nothing
    waits for it either."""
    return user.suspended_at is None


def awaiting_contracts(user, *, now: datetime) -> Q:
    """The contracts on which some row waits for ``user`` to act now, as their client or their
    freelancer (:meth:`Lifecycle.awaiting` over every declared table), as a filter on Contract.

    One ``pk IN (…)`` subquery per table with awaited actions, whatever the user's history;
    none for a user who :func:`may_act` not.
    """
    terms = [Q(pk__in=[])]
    if not may_act(user):
        return terms[0]
    for lifecycle in _lifecycles:
        if lifecycle.owner_path or lifecycle.model is None:
            continue
        path = lifecycle.contract_path.replace(".", "__")
        per_party = []
        for actor in (Actor.CLIENT, Actor.FREELANCER):
            waiting = lifecycle.awaiting(actor, now=now)
            if waiting is not None:
                party = f"{path}__{actor.value}" if path else actor.value
                per_party.append(Q(**{party: user}) & waiting)
        if per_party:
            rows = lifecycle.model._base_manager.filter(functools.reduce(operator.or_, per_party))
            terms.append(Q(pk__in=rows.values(path or "pk")))
    return functools.reduce(operator.or_, terms)


def _deadline_of(action: Action, row):
    """The deadline kind a person's ``action`` must come before, and the row that holds it."""
    from . import deadlines

    if callable(action.before):
        return action.before(row) or (None, None)
    deadline_row = row
    for part in filter(None, action.before_via.split(".")):
        deadline_row = getattr(deadline_row, part)
    return deadlines.kind(action.before, deadline_row), deadline_row


def _catch_up(action: Action, row, now: datetime) -> None:
    """Before a person acts, apply what the row's own passed deadlines did, as the sweep would
    have on time (``core.deadlines.catch_up``).

    The person then acts on the row as it stands: a late sweep changes nothing for them. When
    the deadline applied is the one this action had to come before, the action is refused.
    """
    from . import deadlines

    pending, pending_row = _deadline_of(action, row) if action.before else (None, None)
    due = pending.due_at(pending_row) if pending is not None else None
    applied = deadlines.catch_up(row, now=now)
    if pending is not None and pending.name in applied:
        raise DeadlineSettled(f"{_late(action, due)} {pending.settled_text}".strip())


def _late(action: Action, due: datetime) -> str:
    from . import deadlines

    if action.late:
        return action.late.format(when=deadlines.when(due))
    return f"The deadline to {action.label or 'do this'} passed on {deadlines.when(due)}."


def _check_before(action: Action, row, now: datetime) -> None:
    kind, deadline_row = _deadline_of(action, row)
    due = kind.due_at(deadline_row) if kind is not None else None
    if due is None or now < due:
        return
    if kind.settle(deadline_row, now=now):
        raise DeadlineSettled(f"{_late(action, due)} {kind.settled_text}".strip())
    raise DeadlinePassed(_late(action, due))


def holds_role(user, actor: Actor) -> bool:
    """Whether ``user`` holds the staff role of ``actor``: membership of its group is the role.

    ``is_staff`` only opens the admin site. Superusers hold every role. The user's groups are
    read once per user object, from the cache that every membership change clears
    (``accounts.cached``).
    """
    if not user.is_active:
        return False
    if user.is_superuser:
        return True
    return STAFF_GROUPS.get(actor) in group_names(user)


def group_names(user) -> frozenset[str]:
    """The names of ``user``'s groups, read once per user object from the cache that every
    membership change clears (``accounts.cached``)."""
    groups = user.__dict__.get("_role_groups")
    if groups is None:
        groups = cached.group_names(user)
        user.__dict__["_role_groups"] = groups
    return groups


def roles_of(user) -> frozenset[Actor]:
    """The staff actors ``user`` may be (by group membership)."""
    return frozenset(actor for actor in STAFF_GROUPS if holds_role(user, actor))


# --- Performing ---------------------------------------------------------------------------------


def perform(
    lifecycle: Lifecycle,
    name: str,
    rows: Sequence | Any,
    *,
    now: datetime,
    user=None,
    values: Mapping[str, Any] | Callable[[Any], Mapping[str, Any]] | None = None,
    event: Event | Callable[[Any], Event | list[Event] | None] | None = None,
    notify: Iterable = (),
    checked: bool = False,
) -> None:
    """Take action ``name`` on each locked row (one row, or a sweep's batch).

    See the module docstring for what it checks and writes. ``user`` is the person acting, or
    None for the system (a deadline, or the outcome of another action: the person is then
    recorded by that action). ``values`` are further columns to write with the status (one
    mapping for all rows, or a function of the row); ``event`` the timeline entry of each row
    (or a function of the row giving none, one or a list); ``notify`` the notifications
    (``accounts.services.Message``) the change owes. ``checked`` skips the person's checks a
    service made already with :meth:`Lifecycle.check`.
    """
    batch = list(rows) if isinstance(rows, list | tuple) else [rows]
    if not batch:
        return
    action = lifecycle.actions[name]
    if user is not None and not checked:
        for row in batch:
            lifecycle.check(name, row, user=user, now=now)
    else:
        if user is None and not action.by_system:
            raise RuntimeError(f"{lifecycle.name}.{name} is not a system action")
        for row in batch:
            lifecycle._check_state(action, row)
    _write(lifecycle, action, batch, values)
    stamps.touch(lifecycle.party_ids(batch), at_once=user is not None)
    if event is not None:
        entries = []
        for row in batch:
            made = event(row) if callable(event) else event
            entries += [(row, e) for e in (made if isinstance(made, list) else [made]) if e]
        if entries and lifecycle.timeline_path:
            import_string(lifecycle.timeline_path)(entries, actor=user, now=now)
    messages = list(notify)
    if messages:
        from accounts.services import notifications_send

        notifications_send(messages=messages, now=now)
    emitted = lifecycle.emits(action)
    if emitted:
        from webhooks.events import record

        record(emitted, batch, lifecycle=lifecycle, now=now)
    if user is not None:
        _audit(lifecycle, action, batch, user, now)
    if action.target is not None:
        for handler in lifecycle.followers.get(action.target, ()):
            import_string(handler)(batch, now=now)


def record_created(lifecycle: Lifecycle, rows: Sequence | Any, *, now: datetime) -> None:
    """Record what creating ``rows`` (in one of their initial states) owes the outside world:
    the lifecycle's ``created`` events, in the creating service's transaction."""
    batch = list(rows) if isinstance(rows, list | tuple) else [rows]
    if batch:
        stamps.touch(lifecycle.party_ids(batch))
    if batch and lifecycle.created_emits:
        from webhooks.events import record

        record(lifecycle.created_emits, batch, lifecycle=lifecycle, now=now)


def _audit(lifecycle: Lifecycle, action: Action, batch: list, user, now: datetime) -> None:
    """Record the rows ``user`` acted on in a staff role in the audit log (``core.audit``).

    A person acting as the client or the freelancer is not recorded, nor is the system (a
    sweep's batch never reaches here). The checks passed already, so whoever is not acting as
    a party of the row holds one of the action's staff roles.
    """
    staff = sorted(action.actors & STAFF)
    if not staff:
        return
    rows = []
    for row in batch:
        if lifecycle.parties_of(row).get(user.pk) in action.actors:
            continue
        role = next((actor for actor in staff if holds_role(user, actor)), staff[0])
        name = f"{lifecycle.name.replace(' ', '_')}.{action.name}"
        rows.append((row, name, f"{row}: {action.name} as {role}"))
    if rows:
        from . import audit

        audit.actions(user=user, rows=rows, now=now)


def _write(lifecycle: Lifecycle, action: Action, batch: list, values) -> None:
    """Write the target status and ``values`` with conditional UPDATEs, a few per batch.

    Columns with the same value on every row are set plainly; columns that differ per row (a
    split, a party's answer) are set with ``CASE id WHEN … THEN …``, as ``bulk_update`` does, in
    chunks. Every UPDATE is conditional on the rows still being in a source state.
    """
    field = lifecycle.status_field
    rows = []
    for row in batch:
        row_values = dict(values(row) if callable(values) else (values or {}))
        if action.target is not None:
            row_values[field] = action.target
        rows.append((row, row_values))
    columns = {name for _, row_values in rows for name in row_values}
    if not columns:
        return
    model = lifecycle.model
    constant = {}
    varying = []
    for name in columns:
        seen = [row_values.get(name, _MISSING) for _, row_values in rows]
        if _MISSING not in seen and all(_same(v, seen[0]) for v in seen):
            constant[name] = seen[0]
        else:
            varying.append(name)
    for name in varying:
        if any(name not in row_values for _, row_values in rows):
            raise ValueError(f"{lifecycle.name}.{action.name}: {name} is not set on every row")
    plain = not any(hasattr(v, "resolve_expression") for v in constant.values())
    if varying and plain and connection.vendor == "postgresql":
        # One UPDATE over arrays (core.bulk.update) instead of a CASE per column and row.
        written = bulk.update(
            model,
            [(row.pk, {name: row_values[name] for name in varying}) for row, row_values in rows],
            constant=constant,
            where={field: sorted(action.sources)},
        )
        if written != len(rows):
            raise StaleRow()
        _set_attributes(rows)
        return
    # Only CASE expressions grow with the rows: a batch without them is one statement.
    size = _CHUNK if varying else len(rows)
    for start in range(0, len(rows), size):
        chunk = rows[start : start + size]
        update = dict(constant)
        for name in varying:
            model_field = bulk.field_of(model, name)
            update[name] = Case(
                *[
                    When(pk=row.pk, then=Value(row_values[name], output_field=model_field))
                    for row, row_values in chunk
                ],
                output_field=model_field,
            )
        pks = [row.pk for row, _ in chunk]
        written = model._base_manager.filter(
            pk__any=pks, **{f"{field}__in": sorted(action.sources)}
        ).update(**update)
        if written != len(pks):
            raise StaleRow()
    _set_attributes(rows)


def _set_attributes(rows) -> None:
    for row, row_values in rows:
        for name, value in row_values.items():
            setattr(row, name, value)


_MISSING = object()
_CHUNK = 500


def _same(a, b) -> bool:
    return type(a) is type(b) and a == b


# --- Transactions -------------------------------------------------------------------------------


@contextmanager
def atomic():
    """``transaction.atomic()``, except that what a passed deadline did before a refusal stays.

    A person's late action raises :class:`DeadlineSettled` after the deadline's outcome was
    written; the block then commits (or releases its savepoint) and the refusal is raised again.
    Any other exception rolls back as usual. The events the block records are written as it
    ends (``webhooks.events.written_at_end``).
    """
    from webhooks.events import written_at_end

    settled = None
    with transaction.atomic(), written_at_end():
        try:
            yield
        except DeadlineSettled as exc:
            settled = exc
    if settled is not None:
        raise settled


def service(func):
    """Run a service in :func:`atomic`: one transaction that keeps a passed deadline's outcome."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with atomic():
            return func(*args, **kwargs)

    return wrapper
