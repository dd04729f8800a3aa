"""``GET /healthz``: whether this installation can do its work, for load balancers and monitors.

200 when the database answers, the configured Celery broker can be reached (for the embedded
file-system broker: its folders can be written) and a deadline sweep finished within three
sweep intervals; 503 otherwise. Anyone may ask; nothing is cached; it reads one row and opens
one broker connection.

A load balancer asks by the server's own address, over plain HTTP: :class:`HealthCheckMiddleware`
answers ``/healthz`` before the host check (``ALLOWED_HOSTS``) and the HTTPS redirect, and
before the session, so the probe costs nothing else. It answers the same everywhere.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime

from django.conf import settings
from django.db import DatabaseError
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .sweeps import last_finished

logger = logging.getLogger(__name__)

FILESYSTEM_FOLDERS = ("data_folder_in", "data_folder_out", "processed_folder", "control_folder")


def _last_sweep() -> tuple[bool, datetime | None]:
    """(whether the database answered, when the deadline sweep last finished)."""
    try:
        return True, last_finished("deadlines")
    except DatabaseError:
        logger.warning("healthz: the database cannot be reached", exc_info=True)
        return False, None


def _broker_reachable() -> bool:
    from config import celery_app

    conf = celery_app.conf
    url = conf.broker_url or ""
    options = conf.broker_transport_options or {}
    if url.startswith("memory"):
        return True
    if url.startswith("filesystem"):
        folders = [options[key] for key in FILESYSTEM_FOLDERS if options.get(key)]
        return all(os.path.isdir(f) and os.access(f, os.W_OK | os.X_OK) for f in folders)
    try:
        with celery_app.connection_for_write(
            transport_options={"socket_connect_timeout": 2, "socket_timeout": 2}
        ) as connection:
            connection.ensure_connection(max_retries=0)
    except Exception:
        logger.warning("healthz: the broker cannot be reached", exc_info=True)
        return False
    return True


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@never_cache
@require_safe
def healthz(request):
    database, last_sweep_at = _last_sweep()
    broker = _broker_reachable()
    recent = last_sweep_at is not None and (
        timezone.now() - last_sweep_at <= 3 * settings.DEADLINE_SWEEP_INTERVAL
    )
    healthy = database and broker and recent
    return JsonResponse(
        {
            "status": "ok" if healthy else "failing",
            "database": "ok" if database else "unreachable",
            "broker": "ok" if broker else "unreachable",
            "last_sweep_at": _iso(last_sweep_at),
        },
        status=200 if healthy else 503,
    )


class HealthCheckMiddleware:
    """Answer ``/healthz`` first, whatever the Host header or the scheme (see the docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == "/healthz":
            return healthz(request)
        return self.get_response(request)
