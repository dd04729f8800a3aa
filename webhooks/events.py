"""Recording events: the outbox of what integrators are told.

``core.actions.perform`` (and ``core.actions.record_created``, and the reminder sweep) call
:func:`record` in the transaction that makes the change, with the types the tables declare
(``webhooks.catalog``). For each object the rows are about (their lifecycle's ``subject``), it
asks the app that owns the object who can see it (:class:`Subject`: the parties, as the API's
visibility rules say) and writes one ``Event`` per recipient, with the object as that recipient's
GET returns it. The deliveries the events owe to their recipients' webhook endpoints are written
in the same transaction (``webhooks.relay``) and sent after commit. So a committed change always
has its events and deliveries, and a rolled-back one never does.

*Snapshots.* An event's ``data`` is serialized in the change's transaction, with the app's own
GET serializer: the object as the change left it. A deadline sweep changes thousands of rows a
second, and serializing each for each party would cost more than the sweep itself, so within
:func:`batched` (a sweep's transaction) the events are written without ``data``; the relay builds it
right after the batch commits, before the event is sent or listed (:func:`fill`): the object as
it is then, normally within a second of the change.

*The stream.* A user's events, in id order, are their stream (``/events/?after=``). Ids come from
one sequence, so two transactions writing events for the same user could commit out of id order
and a poller that already read the higher id would never see the lower one. So the events of a
service or of a sweep's transaction are written when it ends (:func:`written_at_end`), after a
lock per recipient is taken (PostgreSQL advisory locks, all in one statement in user-id order,
held until the transaction ends; SQLite has one writer at a time anyway): for each user, ids
commit in increasing order.
"""

from __future__ import annotations

import contextvars
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any, NamedTuple

from django.conf import settings
from django.db import connection, transaction

from accounts.models import User
from core.lookups import int_array

from .models import Event

logger = logging.getLogger(__name__)

# The namespace of the stream locks among PostgreSQL's advisory locks.
_STREAM_LOCKS = 0x57EB


@dataclass(frozen=True)
class Subject:
    """How the events about one model's objects are addressed, and what they carry.

    Registered by the app that owns the model (its ``events`` module). ``audience(ids)`` answers
    ``{id: [user ids]}``: who can see each object, in one query. ``load(ids)`` returns the rows
    as the GET reads them (its ``select_related`` and prefetches), and ``serializer`` is the
    GET's; ``prepare(rows, context)`` may read what the serializer needs for all rows at once.
    """

    model: str  # "app_label.ModelName"
    serializer: type
    load: Callable[[Sequence[int]], Iterable[Any]]
    audience: Callable[[Sequence[int]], Mapping[int, Sequence[int]]]
    prepare: Callable[[list, dict], None] | None = None


_subjects: dict[str, Subject] = {}


def register(*subjects: Subject) -> None:
    for subject in subjects:
        _subjects[subject.model.lower()] = subject


def subject_of(model: str) -> Subject:
    try:
        return _subjects[model.lower()]
    except KeyError:
        raise LookupError(
            f"{model} emits events but registers no webhooks.events.Subject for them"
        ) from None


_NO_DATA = object()  # an event of a sweep: its data is built after commit


class _Row(NamedTuple):
    """One event to insert."""

    user_id: int
    type: str
    created_at: datetime
    subject_model: str
    subject_id: int
    data: Any = _NO_DATA


@dataclass
class _Pending:
    """The events recorded in one block, written when the outermost block ends."""

    snapshots: bool
    events: list[_Row] = field(default_factory=list)


_pending: contextvars.ContextVar[_Pending | None] = contextvars.ContextVar(
    "events_pending", default=None
)


@contextmanager
def written_at_end(*, snapshots: bool = True):
    """Write the events recorded inside when the outermost such block ends without an error.

    Every service runs in one (``core.actions.atomic``), and so does each transaction of a
    sweep (:func:`batched`): a transaction then takes its recipients' stream locks once, in one
    statement, after every row lock it takes, so two transactions never wait on each other for
    ever. A block that raises writes nothing of what was recorded inside it (its savepoint
    rolls back too). With ``snapshots`` off, the events carry no data yet (see the module
    docstring); an inner block keeps the outer one's choice.
    """
    parent = _pending.get()
    pending = _Pending(snapshots=parent.snapshots if parent is not None else snapshots)
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    if parent is not None:
        parent.events += pending.events
    else:
        _write(pending.events, ids=False)


def batched():
    """A deadline sweep's transaction: its events are written at its end, without data; the
    relay builds it right after the batch commits (see the module docstring)."""
    return written_at_end(snapshots=False)


def _follow(row, path: str):
    value = row
    for part in path.split("."):
        value = getattr(value, part)
    return value


def record(types: Sequence[str], rows: Sequence, *, lifecycle, now: datetime) -> list[int]:
    """Write the events ``types`` about each row (see the module docstring); return their ids,
    or none within :func:`written_at_end`, which writes them when it ends.

    Call in the transaction that made the change, after writing it: the snapshot and the
    audience are read from the rows as the change left them.
    """
    label, path = lifecycle.subject
    subject = subject_of(label)
    ids = list(dict.fromkeys(_follow(row, path) for row in rows))
    audience = subject.audience(ids)
    pairs = [(pk, user_id) for pk in ids for user_id in audience.get(pk, ())]
    if not pairs:
        return []
    pending = _pending.get()
    model = label.lower()
    if pending is not None and not pending.snapshots:
        events = [_Row(u, t, now, model, pk) for pk, u in pairs for t in types]
    else:
        data = snapshots(subject, pairs)
        events = [_Row(u, t, now, model, pk, data.get((pk, u))) for pk, u in pairs for t in types]
    if pending is not None:
        pending.events += events
        return []
    return _write(events, ids=True)


def _write(events: list[_Row], *, ids: bool) -> list[int]:
    """Insert ``events`` and the deliveries they owe; return their ids when ``ids`` (or when
    deliveries need them)."""
    if not events:
        return []
    from .relay import deliveries_create, endpoints_of

    users = {event.user_id for event in events}
    _lock_streams(users)
    endpoints = endpoints_of(users)
    event_ids = _insert(events, ids=ids or bool(endpoints))
    if endpoints:
        deliveries_create(
            events=[(pk, e.user_id, e.type) for pk, e in zip(event_ids, events, strict=True)],
            endpoints=endpoints,
            now=events[0].created_at,
        )
    return event_ids


def _run_of(event: _Row) -> tuple:
    return event.type, event.created_at, event.subject_model, event.data is _NO_DATA


def _insert(events: list[_Row], *, ids: bool) -> list[int]:
    """Insert ``events`` in their order; return their ids when ``ids``.

    On PostgreSQL, one ``INSERT … SELECT FROM unnest(…)`` per run of events that share their
    type, time, subject model and whether they carry data: those go over once as values, the
    rest as arrays of integers (and JSON text), which cost far less to send than a column of
    the same time repeated a thousand times.
    """
    if connection.vendor != "postgresql":
        created = Event.objects.bulk_create(
            Event(**{k: v for k, v in e._asdict().items() if v is not _NO_DATA}) for e in events
        )
        return [event.pk for event in created] if ids else []
    drawn: list[int] = []
    with connection.cursor() as cursor:
        if ids:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('webhooks_event', 'id'))"
                " FROM generate_series(1, %s)",
                [len(events)],
            )
            drawn = [pk for (pk,) in cursor.fetchall()]
        start = 0
        for _, run in groupby(events, key=_run_of):
            run = list(run)
            first = run[0]
            with_data = first.data is not _NO_DATA
            columns = ["user_id", "subject_id", *(["data"] if with_data else [])]
            arrays: list = [int_array(e.user_id for e in run), int_array(e.subject_id for e in run)]
            types = ["bigint", "bigint"]
            if with_data:
                arrays.append([json.dumps(e.data) for e in run])
                types.append("text")
            if ids:
                columns.insert(0, "id")
                arrays.insert(0, int_array(drawn[start : start + len(run)]))
                types.insert(0, "bigint")
            names = ", ".join(columns)
            selected = ", ".join("u.data::jsonb" if c == "data" else f"u.{c}" for c in columns)
            unnested = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO webhooks_event ({names}, type, created_at, subject_model)"
                f" SELECT {selected}, %s, %s, %s FROM unnest({unnested}) AS u({names})",
                [first.type, first.created_at, first.subject_model, *arrays],
            )
            start += len(run)
    return drawn


def _lock_streams(user_ids: Iterable[int]) -> None:
    """Hold each user's stream until this transaction ends (see the module docstring).

    Re-taking a lock the transaction holds is free; taking them all in one statement, in
    user-id order, is what keeps two writers from waiting on each other for ever.
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, (u %% 2147483647)::int)"
            " FROM (SELECT u FROM unnest(%s::bigint[]) AS u ORDER BY u) AS s",
            [_STREAM_LOCKS, int_array(sorted(user_ids))],
        )


class _Viewer:
    """What the GET serializers read of the request: who is asking, and absolute links."""

    user: User | None = None

    def build_absolute_uri(self, path: str) -> str:
        return f"{settings.SITE_URL}{path}"


def snapshots(subject: Subject, pairs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], Any]:
    """``{(object id, user id): the object as its GET returns it to that user}``.

    One serializer for all of them (building a serializer costs more than using it), with the
    viewer changed for each; objects gone meanwhile are left out.
    """
    rows = {row.pk: row for row in subject.load(sorted({pk for pk, _ in pairs}))}
    users = User.objects.in_bulk(sorted({user_id for _, user_id in pairs}))
    viewer = _Viewer()
    context = {"request": viewer}
    if subject.prepare is not None:
        subject.prepare(list(rows.values()), context)
    serializer = subject.serializer(context=context)
    found = {}
    for pk, user_id in pairs:
        if pk in rows and user_id in users:
            viewer.user = users[user_id]
            found[(pk, user_id)] = serializer.to_representation(rows[pk])
    return found


# --- Building what a sweep left out ---------------------------------------------------------------

FILL_BATCH = 500


def fill(events: Sequence[Event]) -> None:
    """Build the ``data`` of those of ``events`` written without it, and store it.

    Each is built once: the first to store it wins, and a later builder keeps what is stored.
    """
    pending = [e for e in events if e.data is None]
    if not pending:
        return
    by_model: dict[str, list[Event]] = {}
    for event in pending:
        by_model.setdefault(event.subject_model, []).append(event)
    built: dict[int, Any] = {}
    for model, group in by_model.items():
        found = snapshots(subject_of(model), [(e.subject_id, e.user_id) for e in group])
        for event in group:
            built[event.pk] = found.get((event.subject_id, event.user_id), {})
    _store(built)
    stored = dict(Event.objects.filter(pk__any=list(built)).values_list("pk", "data"))
    for event in pending:
        event.data = stored.get(event.pk, built[event.pk])


def _store(built: Mapping[int, Any]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE webhooks_event AS e SET data = v.data::jsonb"
                " FROM unnest(%s::bigint[], %s::text[]) AS v(id, data)"
                " WHERE e.id = v.id AND e.data IS NULL",
                [list(built), [json.dumps(value) for value in built.values()]],
            )
        return
    for pk, value in built.items():
        Event.objects.filter(pk=pk, data__isnull=True).update(data=value)


def fill_pending(*, batch_size: int = FILL_BATCH) -> int:
    """Build the data of every event still without it, a batch per transaction; return how
    many were built. Safe on several workers at once (rows another holds are skipped). A batch
    that fails is built one event at a time, and an event that fails alone is logged and left
    for the next pass, never holding back the others."""
    total, after = 0, 0
    while True:
        ids = list(
            Event.objects.filter(data__isnull=True, pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        try:
            total += _fill(ids)
        except Exception:
            logger.warning("building the data of %d events failed; one at a time", len(ids))
            for pk in ids:
                try:
                    total += _fill([pk])
                except Exception:
                    logger.exception("the data of event #%s could not be built", pk)
        if len(ids) < batch_size:
            return total
        after = ids[-1]


def _fill(ids: list[int]) -> int:
    if not ids:
        return 0
    with transaction.atomic():
        pending = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(pk__any=ids, data__isnull=True)
            .order_by("pk")
        )
        fill(pending)
    return len(pending)
