"""Login lockout: when a refused login may try again, and who the client is (django-axes).

django-axes records every failed login (``AccessAttempt``, one row per username, address and
browser) on the log-in page, the admin's and ``POST /api/v1/auth/token/``, and its
authentication backend refuses any login — the right password too — while the failures of the
username (from any address) or of the address (with any usernames) within the cool-off reach
the limit (settings, "Login lockout"). This module tells the person when that ends: the browser
on a page of its own, the API in its error shape with ``Retry-After``. It also names the
client's address the way the API's rate limits do, so both count the same clients.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off, get_failure_limit
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.timesince import timeuntil

from core import audit
from core.deadlines import when
from core.errors import DomainError

NBSP = "\xa0"


class TooManyLoginAttempts(DomainError):
    """A login refused by the lockout, whatever the password; ``retry_after`` in seconds."""

    status = 429
    code = "too_many_login_attempts"

    def __init__(self, *, ends_at: datetime, now: datetime) -> None:
        self.retry_after = seconds_until(ends_at, now=now)
        after = retry_at(ends_at)
        super().__init__(
            "Too many failed logins for this username or from this address: the right password "
            f"is refused too until the lockout ends. Try again after {when(after)} "
            f"(in {timeuntil(after, now).replace(NBSP, ' ')})."
        )


def client_address(request: HttpRequest) -> str:
    """The client's address, as the API's rate limits and the audit log see it (through
    ``NUM_PROXIES`` proxies); "" when it is not an IP address (all such requests count as one)."""
    return audit.client_address(request) or ""


def lockout_ends_at(request: HttpRequest, credentials: dict | None, *, now: datetime) -> datetime:
    """When the lockout that refused ``request`` ends.

    A lockout lasts while the failures counted within the cool-off reach the limit; each
    ``AccessAttempt`` row counts until its last failure is a cool-off old. So, newest row first,
    the row whose failures bring the count to the limit is the one whose expiry ends the lockout.
    """
    AxesProxyHandler.update_request(request)
    handler = AxesProxyHandler.get_implementation()
    limit = get_failure_limit(request, credentials)
    cool_off: timedelta = get_cool_off(request)
    ends = []
    for attempts in handler.get_user_attempts(request, credentials):
        counted = 0
        rows = attempts.order_by("-attempt_time", "-pk").values_list(
            "attempt_time", "failures_since_start"
        )
        for attempt_time, failures in rows:
            counted += failures
            if counted >= limit:
                ends.append(attempt_time + cool_off)
                break
    return max(ends, default=now + cool_off)


def retry_at(ends_at: datetime) -> datetime:
    """The end of the lockout rounded up to the minute, for people to read."""
    minute = ends_at.replace(second=0, microsecond=0)
    return minute if minute == ends_at else minute + timedelta(minutes=1)


def seconds_until(ends_at: datetime, *, now: datetime) -> int:
    return max(math.ceil((ends_at - now).total_seconds()), 1)


def refuse_if_locked_out(request, *, username: str | None, now: datetime) -> None:
    """Raise :class:`TooManyLoginAttempts` if the lockout refused this request's login."""
    if getattr(request, "axes_locked_out", False):
        ends_at = lockout_ends_at(request, {"username": username}, now=now)
        raise TooManyLoginAttempts(ends_at=ends_at, now=now)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The page a browser login refused by the lockout gets (``AXES_LOCKOUT_CALLABLE``)."""
    now = timezone.now()
    ends_at = lockout_ends_at(request, credentials, now=now)
    response = render(
        request,
        "registration/locked_out.html",
        {
            "retry_at": retry_at(ends_at),
            "failure_limit": get_failure_limit(request, credentials),
            "login_url": request.path,
        },
        status=TooManyLoginAttempts.status,
    )
    response["Retry-After"] = str(seconds_until(ends_at, now=now))
    return response
