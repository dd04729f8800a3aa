"""The staff audit log: every staff action and every staff read of a case, with who, when and
from where.

What is recorded (``AuditEntry.Kind``):

* ``ACTION`` — every action a person takes in a staff role through ``core.actions.perform``
  (one hook there: an agent's proposal, an assignment, a note, an award…), and the staff
  actions that change no status (suspending an account, giving a role, retrying a stuck
  deadline). The system's own actions (deadline sweeps) are never recorded.
* ``READ`` — a staff member opening a case (the staff case pages, the admin pages of
  disputes, refund requests and support cases, the dispute pages and the API), its internal
  notes, its messages, its dossier, or one of its private files (evidence, submitted work). A
  party reading their own case is not recorded: :func:`read` records only readers who are not
  one of the contract's parties, and the selectors let nobody else than staff read a case they
  are not a party to.
* ``ADMIN_CHANGE`` — each addition, change and deletion made in the admin (its ``LogEntry``
  rows, and the bulk "delete selected" action, which logs without signals).

Where from: :class:`AuditContextMiddleware` keeps the request's client address, user agent and
path in a context variable for the duration of the request, so the hook in ``perform`` and the
views record them without passing the request down. Work without a request (a command, a
task) is recorded without them.

Entries are written in the caller's transaction: an action that rolls back leaves no entry.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from .models import AuditEntry

Kind = AuditEntry.Kind

# What a staff member read (``AuditEntry.name`` of a READ entry).
CASE = "case"
INTERNAL_NOTES = "internal_notes"
MESSAGES = "messages"
EVIDENCE = "evidence"
SUBMITTED_WORK = "submitted_work"
CASE_LIST = "case_list"


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None
    user_agent: str
    path: str


_context: ContextVar[RequestContext | None] = ContextVar("audit_request", default=None)
_logentries_recorded_elsewhere: ContextVar[bool] = ContextVar("audit_logentries", default=False)


def client_address(request) -> str | None:
    """The client's IP address, as the rate limits and the login lockout see it: the
    connection's, or behind ``NUM_PROXIES`` reverse proxies the X-Forwarded-For entry the first
    of them added (a client can write anything before it)."""
    try:
        return str(ipaddress.ip_address((BaseThrottle().get_ident(request) or "").strip()))
    except ValueError:
        return None


class AuditContextMiddleware:
    """Keep where the request comes from for the audit entries it writes."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _context.set(
            RequestContext(
                ip_address=client_address(request),
                user_agent=request.headers.get("User-Agent", "")[:255],
                path=request.path[:255],
            )
        )
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)


def _where() -> dict:
    """The request's address, user agent and path, for an entry (empty outside a request)."""
    context = _context.get()
    if context is None:
        return {"ip_address": None, "user_agent": "", "path": ""}
    return {
        "ip_address": context.ip_address,
        "user_agent": context.user_agent,
        "path": context.path,
    }


def _entry(*, user_id: int, kind: str, name: str, obj=None, description: str, at: datetime):
    return AuditEntry(
        at=at,
        user_id=user_id,
        kind=kind,
        name=name[:100],
        content_type=ContentType.objects.get_for_model(obj) if obj is not None else None,
        object_id=str(obj.pk) if obj is not None else "",
        description=description[:255],
        **_where(),
    )


def record(*, user, kind: str, name: str, obj=None, description: str = "", now=None) -> None:
    """Write one audit entry for ``user`` (about ``obj``, when there is one)."""
    _entry(
        user_id=user.pk,
        kind=kind,
        name=name,
        obj=obj,
        description=description or (str(obj) if obj is not None else ""),
        at=now or timezone.now(),
    ).save()


def actions(*, user, rows: Sequence[tuple[object, str, str]], now: datetime) -> None:
    """Record the staff actions ``user`` took: ``(row, action name, description)`` each."""
    AuditEntry.objects.bulk_create(
        [
            _entry(user_id=user.pk, kind=Kind.ACTION, name=name, obj=row, description=text, at=now)
            for row, name, text in rows
        ]
    )


def action(*, user, name: str, obj=None, description: str = "", now=None) -> None:
    """Record one staff action that changes no status (a suspension, a role, a retry)."""
    record(user=user, kind=Kind.ACTION, name=name, obj=obj, description=description, now=now)


def read(*, user, obj, what: str, contract, via: str, detail: str = "") -> bool:
    """Record that ``user`` read ``what`` of ``obj`` (a case, its notes, one of its files) as
    staff, through ``via`` ("the agents' case page", "the API"…); return whether it did.

    Nothing is recorded when ``user`` is the client or the freelancer of ``contract``: a party
    reading their own case.
    """
    if user.pk in (contract.client_id, contract.freelancer_id):
        return False
    text = f"{detail or obj} — {via}"
    record(user=user, kind=Kind.READ, name=what, obj=obj, description=text)
    return True


def list_read(*, user, what: str, via: str) -> None:
    """Record that ``user`` read a list of cases as staff (one entry for the page)."""
    record(user=user, kind=Kind.READ, name=what, description=via)


def admin_change(logentry) -> None:
    """Record an admin ``LogEntry`` (its ``post_save``), unless recorded elsewhere already."""
    if _logentries_recorded_elsewhere.get():
        return
    names = {1: "addition", 2: "change", 3: "deletion"}
    message = logentry.get_change_message()
    text = f"{logentry.object_repr}: {message}" if message else logentry.object_repr
    AuditEntry.objects.create(
        at=logentry.action_time,
        user_id=logentry.user_id,
        kind=Kind.ADMIN_CHANGE,
        name=names.get(logentry.action_flag, str(logentry.action_flag)),
        content_type_id=logentry.content_type_id,
        object_id=str(logentry.object_id or "")[:64],
        description=text[:255],
        **_where(),
    )


@contextmanager
def logentries_recorded_elsewhere():
    """Within, admin ``LogEntry`` rows are not recorded: the caller records the change."""
    token = _logentries_recorded_elsewhere.set(True)
    try:
        yield
    finally:
        _logentries_recorded_elsewhere.reset(token)


def admin_deletions(*, user, objects: Iterable, now: datetime) -> None:
    """Record the deletion of each of ``objects`` in the admin."""
    AuditEntry.objects.bulk_create(
        [
            _entry(
                user_id=user.pk,
                kind=Kind.ADMIN_CHANGE,
                name="deletion",
                obj=obj,
                description=str(obj),
                at=now,
            )
            for obj in objects
        ]
    )
