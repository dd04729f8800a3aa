"""The relay: deliveries written with their events, sent after commit, retried, never lost.

Deliveries are an outbox kind (``core.outbox``, :data:`WEBHOOKS`): the claims, leases, retries
and the relay sweep are the outbox's, as for the notification e-mails.

1. :func:`deliveries_create` runs in the change's transaction (``webhooks.events.record``): one
   ``Delivery`` per event and ENABLED endpoint of its recipient whose patterns match its type.
   After commit, the ``deliver`` task is enqueued for them on the ``webhooks`` queue; when the
   broker is unreachable the enqueue is skipped with a warning, never an error.
2. :func:`deliver` sends the claimed deliveries: it fills the event's data if a sweep left it
   out, signs and posts it, and records the attempt. Success: delivered. Failure: due again
   after the next step of ``RETRY_AFTER`` (the first, 5 s, with a countdown on the queue; the
   later ones from the relay sweep); after the last, given up (a person can redeliver). An
   endpoint that fails for ``DISABLE_AFTER`` (every attempt since its first failure failed) is
   disabled and its owner told.
3. :func:`relay_due`, on beat every ``WEBHOOK_RELAY_INTERVAL``: builds the data a sweep left out,
   and sends every delivery that is due (fresh ones once ``WEBHOOK_OUTBOX_GRACE`` passed, their
   own task's time), so a lost task, a dead worker or a broker outage delays a delivery but
   never loses it.

Delivery is at least once: receivers deduplicate on ``webhook-id``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from core import bulk, outbox

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
# Retries this soon are enqueued with a countdown; later ones wait for the relay sweep.
SOON = timedelta(minutes=1)


def retry_after(attempts: int) -> timedelta | None:
    """The wait after the ``attempts``-th attempt failed; None once the schedule is over."""
    return RETRY_AFTER[attempts - 1] if attempts <= len(RETRY_AFTER) else None


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
            "next_attempt_at": WEBHOOKS.first_attempt_at(now),
            "error": "",
        }
        for event_id, user_id, type_ in events
        for endpoint_id, patterns in endpoints.get(user_id, ())
        if catalog.matches(patterns, type_)
    ]
    ids = bulk.insert(Delivery, rows, ids=True)
    outbox.enqueue_on_commit(WEBHOOKS, ids)
    return ids


# --- Sending ---------------------------------------------------------------------------------


def body_of(event: Event) -> bytes:
    """The JSON a delivery of ``event`` posts: what ``/events/`` lists, byte for byte."""
    from .serializers import EventSerializer

    return JSONRenderer().render(EventSerializer(event).data)


def deliver(ids: list[int], *, now: datetime) -> outbox.Outcome:
    """Send the claimed deliveries ``ids`` (the outbox's ``deliver``), one attempt each.

    The clock is read for each attempt: an attempt's time is when it was made; the retry is
    due ``RETRY_AFTER`` from ``now``, when the outbox settles it.
    """
    done = outbox.Outcome()
    deliveries = list(
        Delivery.objects.filter(pk__any=ids).select_related("event", "endpoint").order_by("pk")
    )
    events.fill([d.event for d in deliveries if d.event.data is None])
    for delivery in deliveries:
        endpoint, event = delivery.endpoint, delivery.event
        if endpoint.status != WebhookEndpoint.Status.ENABLED:
            # Disabled since it was written: what it owed stays in the log, unsent.
            done.skipped[delivery.pk] = "The endpoint is disabled."
            continue
        at = timezone.now()
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
        failure, final = record_attempt(delivery, answer, at=at, now=now)
        if failure is None:
            done.delivered.append(delivery.pk)
        elif final:  # the endpoint was disabled or removed: nothing more to try
            done.skipped[delivery.pk] = failure
        else:
            done.failed[delivery.pk] = failure
    return done


def signing_secrets(endpoint: WebhookEndpoint, *, now: datetime) -> list[str]:
    """The secrets that sign now: the current one, and the previous one during its 24 hours."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and now < expires:
        found.append(endpoint.previous_secret)
    return found


def record_attempt(
    delivery: Delivery, answer: sending.Answer, *, at: datetime, now: datetime
) -> tuple[str | None, bool]:
    """Log one attempt (the ``delivery.attempts``-th: the claim counted it) and update the
    endpoint's failing streak. Return why it failed (None when it succeeded), and whether
    nothing more is to be tried (the endpoint was disabled or removed)."""
    from .services import endpoint_disable_failing

    attempt = delivery.attempts
    with transaction.atomic():
        endpoint = (
            WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
        )
        if endpoint is None:
            return "The endpoint was removed.", True  # by its owner meanwhile, with its log
        result, final, next_at = None, False, None
        if answer.ok:
            if endpoint.failing_since is not None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        else:
            result = answer.error or f"HTTP {answer.status_code}"
            wait = retry_after(attempt)
            next_at = now + wait if wait is not None else None
            failing_since = endpoint.failing_since or at
            if endpoint.failing_since is None:
                WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=at)
            if (
                endpoint.status == WebhookEndpoint.Status.ENABLED
                and at - failing_since >= DISABLE_AFTER
            ):
                endpoint_disable_failing(endpoint=endpoint, since=failing_since, now=at)
                next_at, final = None, True
                result = (
                    f"Given up: the endpoint was disabled after failing for "
                    f"{DISABLE_AFTER.days} days. {result}"
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
    return result, final


def relay_due(*, now: datetime) -> dict[str, int]:
    """The relay's periodic pass: build the data sweeps left out, send what is due."""
    filled = events.fill_pending()
    done = outbox.redeliver(WEBHOOKS, now=now)
    if filled or done.claimed:
        logger.info(
            "webhook relay: %d event(s) built, %d delivery(ies) sent, %d failed",
            filled,
            done.delivered,
            done.failed + done.given_up,
        )
    return {
        "events_built": filled,
        "delivered": done.delivered,
        "failed": done.failed,
        "given_up": done.given_up + done.skipped,
    }


WEBHOOKS = outbox.register(
    outbox.OutboxKind(
        name="webhooks.deliveries",
        model="webhooks.Delivery",
        task="webhooks.tasks.deliver",
        task_ids="delivery_ids",
        deliver=deliver,
        grace=lambda: settings.WEBHOOK_OUTBOX_GRACE,
        batch_size=lambda: settings.WEBHOOK_OUTBOX_BATCH_SIZE,
        retry_after=retry_after,
        max_attempts=lambda: len(RETRY_AFTER) + 1,
        requeue_within=SOON,
    )
)
