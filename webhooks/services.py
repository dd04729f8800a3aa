"""Webhook endpoints: registering, changing, rotating the secret, removing; redelivering events.

Every endpoint is its owner's alone (another user's is a 404 at the edges, through the
selectors). The owner turns it off and on through its table's actions; the relay turns off one
that kept failing (:func:`endpoint_disable_failing`), and its owner is told.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from django.db import transaction
from django.urls import reverse

from accounts.models import User
from accounts.services import Message, user_ensure_can_act
from core import outbox
from core.actions import perform, service
from core.errors import Conflict, InvalidInput

from . import catalog, targets
from .models import Delivery, Event, WebhookEndpoint
from .relay import WEBHOOKS
from .sending import new_secret

Status = WebhookEndpoint.Status
# During a rotation the previous secret signs beside the new one this long.
ROTATION_OVERLAP = timedelta(hours=24)
MAX_PATTERNS = 50
MAX_ENDPOINTS = 20


def clean_patterns(patterns: object, *, field: str = "events") -> list[str]:
    """The event type patterns of an endpoint, checked against the catalog."""
    if isinstance(patterns, str) or not isinstance(patterns, list | tuple) or not patterns:
        message = 'Give a list of event types: ["*"], or ["dispute.*", "offer.accepted"].'
        raise InvalidInput(message, code="invalid_events", fields={field: [message]})
    cleaned = []
    for value in patterns:
        if not isinstance(value, str) or not catalog.is_pattern(value.strip()):
            message = f"{value!r} is not an event type, a namespace.* or *. {catalog.PATTERN_HELP}"
            raise InvalidInput(message, code="invalid_events", fields={field: [message]})
        if value.strip() not in cleaned:
            cleaned.append(value.strip())
    if len(cleaned) > MAX_PATTERNS:
        message = f"At most {MAX_PATTERNS} patterns."
        raise InvalidInput(message, code="invalid_events", fields={field: [message]})
    return cleaned


def _clean_description(description: object) -> str:
    text = str(description or "").strip()
    if len(text) > 500:
        message = "The description may be at most 500 characters."
        raise InvalidInput(message, fields={"description": [message]})
    return text


@transaction.atomic
def endpoint_create(
    *, owner: User, url: str, events: object, description: str = "", now: datetime
) -> WebhookEndpoint:
    """Register an endpoint, ENABLED, with a fresh secret (which only this answer shows)."""
    user_ensure_can_act(user=owner)
    url = targets.check(url)
    patterns = clean_patterns(events)
    text = _clean_description(description)
    if WebhookEndpoint.objects.filter(owner=owner).count() >= MAX_ENDPOINTS:
        raise Conflict(
            f"You have {MAX_ENDPOINTS} endpoints already: remove one first.",
            code="too_many_endpoints",
        )
    return WebhookEndpoint.objects.create(
        owner=owner,
        url=url,
        events=patterns,
        description=text,
        secret=new_secret(),
        created_at=now,
    )


def _lock(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    return WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)


@service
def endpoint_update(
    *, endpoint: WebhookEndpoint, actor: User, changes: dict, now: datetime
) -> WebhookEndpoint:
    """Change any of ``url``, ``events``, ``description`` and ``status`` (ENABLED/DISABLED)."""
    user_ensure_can_act(user=actor)
    endpoint = _lock(endpoint)
    values: dict[str, object] = {}
    if "url" in changes:
        values["url"] = targets.check(changes["url"])
    if "events" in changes:
        values["events"] = clean_patterns(changes["events"])
    if "description" in changes:
        values["description"] = _clean_description(changes["description"])
    if values:
        for name, value in values.items():
            setattr(endpoint, name, value)
        endpoint.save(update_fields=list(values))
    wanted = changes.get("status")
    if wanted is not None and wanted != endpoint.status:
        if wanted == Status.DISABLED:
            _disable(endpoint, action="disable", actor=actor, now=now)
        elif wanted == Status.ENABLED:
            perform(
                WebhookEndpoint.lifecycle,
                "enable",
                endpoint,
                user=actor,
                now=now,
                values={"disabled_at": None, "failing_since": None},
            )
        else:
            message = "Choose ENABLED or DISABLED."
            raise InvalidInput(message, fields={"status": [message]})
    return endpoint


def _disable(endpoint: WebhookEndpoint, *, action: str, actor: User | None, now, notify=()):
    """Turn ``endpoint`` off: what it still owed is not sent (the log keeps it)."""
    perform(
        WebhookEndpoint.lifecycle,
        action,
        endpoint,
        user=actor,
        now=now,
        values={"disabled_at": now},
        notify=notify,
    )
    Delivery.objects.filter(endpoint=endpoint, next_attempt_at__isnull=False).update(
        next_attempt_at=None
    )


def endpoint_disable_failing(*, endpoint: WebhookEndpoint, since: datetime, now: datetime) -> None:
    """Disable a locked endpoint that has failed since ``since`` (five days), and tell its owner.

    The relay's, in its transaction.
    """
    _disable(
        endpoint,
        action="disable_failing",
        actor=None,
        now=now,
        notify=[
            Message(
                user_id=endpoint.owner_id,
                kind="webhook_endpoint_disabled",
                title="A webhook endpoint was disabled",
                body=(
                    f"Every delivery to {endpoint.url} has failed since "
                    f"{since:%Y-%m-%d %H:%M} UTC, so it was disabled and gets no more events. "
                    "Fix the receiver, enable the endpoint again, and redeliver the events it "
                    "missed (they stay in your event stream)."
                ),
                url=reverse("webhooks:page"),
            )
        ],
    )


@transaction.atomic
def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, actor: User, now: datetime
) -> WebhookEndpoint:
    """Give the endpoint a new secret; the current one keeps signing beside it for 24 hours.

    A second rotation within those hours drops the oldest: two secrets sign at most.
    """
    user_ensure_can_act(user=actor)
    endpoint = _lock(endpoint)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = new_secret()
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return endpoint


@transaction.atomic
def endpoint_delete(*, endpoint: WebhookEndpoint, actor: User) -> None:
    """Remove the endpoint, with its delivery log."""
    user_ensure_can_act(user=actor)
    _lock(endpoint).delete()


@transaction.atomic
def event_redeliver(*, event: Event, actor: User, now: datetime) -> list[int]:
    """Send ``event`` (the actor's own) again to each of their ENABLED endpoints that wants its
    type; return those endpoints' ids. The deliveries are new, due at once, and carry the same
    ``webhook-id``."""
    user_ensure_can_act(user=actor)
    endpoints: Sequence[WebhookEndpoint] = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(owner=actor, status=Status.ENABLED).order_by(
            "pk"
        )
        if catalog.matches(endpoint.events, event.type)
    ]
    if not endpoints:
        raise Conflict(
            "None of your enabled webhook endpoints takes this type of event.",
            code="no_endpoint",
        )
    created = Delivery.objects.bulk_create(
        Delivery(
            event=event,
            endpoint=endpoint,
            created_at=now,
            next_attempt_at=WEBHOOKS.first_attempt_at(now),
        )
        for endpoint in endpoints
    )
    outbox.enqueue_on_commit(WEBHOOKS, [delivery.pk for delivery in created])
    return [endpoint.pk for endpoint in endpoints]
