"""The relay: deliveries written with their events, sent after commit, retried, never lost.

1. :func:`deliveries_create` runs in the change's transaction (``webhooks.events.record``): one
   ``Delivery`` per event and ENABLED endpoint of its recipient whose patterns match its type,
   due at once. After commit, a ``deliver`` task is enqueued for them on the ``webhooks`` queue;
   when the broker is unreachable the enqueue is skipped with a warning, never an error.
2. :func:`send` claims each due delivery by moving its ``next_attempt_at`` a lease ahead (so two
   workers never send it at once, and one lost with its worker is due again when the lease
   ends), fills the event's data if a sweep left it out, signs and posts it, and records the
   attempt. Success: delivered. Failure: due again after the next step of ``RETRY_AFTER``; after
   the last, given up (a person can redeliver). An endpoint that fails for ``DISABLE_AFTER``
   (every attempt since its first failure failed) is disabled and its owner told.
3. :func:`relay_due`, on beat every ``WEBHOOK_RELAY_INTERVAL``: builds the data a sweep left out,
   and enqueues every delivery that is due (fresh ones after ``GRACE``, their own task's time),
   so a lost task, a dead worker or a broker outage delays a delivery but never loses it.

Delivery is at least once: receivers deduplicate on ``webhook-id``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core import bulk

from . import catalog, events, sending
from .models import Delivery, DeliveryAttempt, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

# After the first attempt fails: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then it gives up.
RETRY_AFTER = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
DISABLE_AFTER = timedelta(days=5)
# How long a claimed delivery is its sender's: more than one attempt can take.
LEASE = timedelta(seconds=60)
# A fresh delivery's own task normally sends it within this; the sweep leaves it alone till then.
GRACE = timedelta(seconds=10)
# Retries this soon are enqueued with a countdown; later ones wait for the sweep.
SOON = timedelta(minutes=1)
CHUNK = 20  # deliveries per task
SWEEP_LIMIT = 5000  # deliveries enqueued per sweep run; the next run takes the rest


def endpoints_of(users) -> dict[int, list[tuple[int, list[str]]]]:
    """``{owner id: [(endpoint id, its patterns)]}``: the ENABLED endpoints of ``users``."""
    found: dict[int, list[tuple[int, list[str]]]] = {}
    for pk, owner_id, patterns in (
        WebhookEndpoint.objects.filter(
            owner_id__any=sorted(users), status=WebhookEndpoint.Status.ENABLED
        )
        .order_by("pk")
        .values_list("pk", "owner_id", "events")
    ):
        found.setdefault(owner_id, []).append((pk, patterns))
    return found


def deliveries_create(
    *,
    events: Sequence[tuple[int, int, str]],
    endpoints: dict[int, list[tuple[int, list[str]]]],
    now: datetime,
) -> list[int]:
    """Owe each ``(event id, user id, type)`` to the matching ones of its user's ``endpoints``
    (:func:`endpoints_of`).

    In the caller's transaction; the ``deliver`` task is enqueued once it commits.
    """
    rows = [
        {
            "event_id": event_id,
            "endpoint_id": endpoint_id,
            "created_at": now,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for event_id, user_id, type_ in events
        for endpoint_id, patterns in endpoints.get(user_id, ())
        if catalog.matches(patterns, type_)
    ]
    ids = bulk.insert(Delivery, rows, ids=True)
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return ids


# --- Enqueueing, whatever the broker's state ---------------------------------------------------

# After a failed enqueue, later ones are skipped for a while instead of waiting on the broker
# again: the sweep sends what they would have.
BROKER_PAUSE = 30.0
_broker_down_until = 0.0


def enqueue(delivery_ids: list[int], countdown: timedelta | None = None) -> bool:
    """Ask a worker to send ``delivery_ids`` (in chunks); never raises. Return whether it did."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        return False
    from .tasks import QUEUE, deliver

    try:
        for start in range(0, len(delivery_ids), CHUNK):
            deliver.apply_async(
                kwargs={"delivery_ids": delivery_ids[start : start + CHUNK]},
                countdown=countdown.total_seconds() if countdown else None,
                queue=QUEUE,
                retry=False,
            )
    except Exception:
        _broker_down_until = time.monotonic() + BROKER_PAUSE
        logger.warning(
            "could not enqueue webhook deliveries %s; the relay sweep sends them",
            delivery_ids,
            exc_info=True,
        )
        return False
    return True


# --- Sending ---------------------------------------------------------------------------------


def body_of(event: Event) -> bytes:
    """The JSON a delivery of ``event`` posts: what ``/events/`` lists, byte for byte."""
    from .serializers import EventSerializer

    return JSONRenderer().render(EventSerializer(event).data)


def _claim(pk: int, *, now: datetime) -> Delivery | None:
    with transaction.atomic():
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("event", "endpoint")
            .filter(pk=pk, next_attempt_at__lte=now)
            .first()
        )
        if delivery is None:
            return None
        if delivery.endpoint.status != WebhookEndpoint.Status.ENABLED:
            # Disabled since: what it owed stays in the log, unsent.
            Delivery.objects.filter(pk=pk).update(next_attempt_at=None)
            return None
        Delivery.objects.filter(pk=pk).update(next_attempt_at=now + LEASE)
        if delivery.event.data is None:
            events.fill([delivery.event])
    return delivery


def send(delivery_ids: Sequence[int], *, clock: Callable[[], datetime] = timezone.now) -> int:
    """Send each of ``delivery_ids`` that is due; return how many were attempted.

    The clock is read for each attempt: an attempt's time is when it was made.
    """
    attempted = 0
    for pk in delivery_ids:
        delivery = _claim(pk, now=clock())
        if delivery is None:
            continue
        endpoint, event = delivery.endpoint, delivery.event
        at = clock()
        body = body_of(event)
        answer = sending.post(
            endpoint.url,
            body=body,
            headers=sending.headers(
                secrets_=signing_secrets(endpoint, now=at),
                msg_id=str(event.pk),
                timestamp=int(at.timestamp()),
                body=body,
            ),
        )
        retry_in = record_attempt(delivery, answer, at=at)
        if retry_in is not None and retry_in <= SOON:
            enqueue([delivery.pk], retry_in)
        attempted += 1
    return attempted


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its 24 hours."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        found.append(endpoint.previous_secret)
    return found


def record_attempt(delivery: Delivery, answer: sending.Answer, *, at: datetime) -> timedelta | None:
    """Log one attempt and decide what follows; return the wait before the retry, if any."""
    from .services import endpoint_disable_failing

    attempt = delivery.attempts + 1
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
        )
        if endpoint is None:
            return None  # removed by its owner meanwhile, with its log
        retry_in = None
        if answer.ok:
            next_at, delivered_at = None, at
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            delivered_at = None
            retry_in = RETRY_AFTER[attempt - 1] if attempt <= len(RETRY_AFTER) else None
            next_at = at + retry_in if retry_in is not None else None
            failing_since = endpoint.failing_since or at
            if endpoint.failing_since is None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=at)
            if (
                endpoint.status == WebhookEndpoint.Status.ENABLED
                and at - failing_since >= DISABLE_AFTER
            ):
                endpoint_disable_failing(endpoint=endpoint, since=failing_since, now=at)
                next_at = retry_in = None
        Delivery.objects.filter(pk=delivery.pk).update(
            attempts=attempt, next_attempt_at=next_at, delivered_at=delivered_at
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            endpoint_id=delivery.endpoint_id,
            attempt=attempt,
            at=at,
            status_code=answer.status_code,
            error=answer.error,
            duration_ms=answer.duration_ms,
            next_attempt_at=next_at,
        )
    return retry_in


def relay_due(*, now: datetime) -> dict[str, int]:
    """The relay's periodic pass: build the data sweeps left out, enqueue what is due."""
    filled = events.fill_pending()
    due = list(
        Delivery.objects.filter(
            Q(next_attempt_at__lte=now, attempts__gt=0) | Q(next_attempt_at__lte=now - GRACE)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_LIMIT]
    )
    enqueued = len(due) if due and enqueue(due, None) else 0
    if filled or due:
        logger.info("webhook relay: %d event(s) built, %d delivery(ies) due", filled, len(due))
    return {"events_built": filled, "deliveries_due": len(due), "enqueued": enqueued}
