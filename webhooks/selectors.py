"""Reads: a user's own endpoints, their delivery logs, and the user's own event stream.

Everything here is the user's alone: another user's endpoint or event is a 404, as if it did
not exist (staff included: nobody reads another person's stream).
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from accounts.models import User

from .models import DeliveryAttempt, Event, WebhookEndpoint


def endpoints_for_user(*, user: User) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(owner=user).order_by("created_at", "pk")


def endpoint_get_for_user(*, user: User, pk: int) -> WebhookEndpoint:
    return get_object_or_404(endpoints_for_user(user=user), pk=pk)


def attempts_for_endpoint(*, endpoint: WebhookEndpoint) -> QuerySet[DeliveryAttempt]:
    """The endpoint's delivery log, newest first, with each attempt's event id."""
    return (
        DeliveryAttempt.objects.filter(endpoint=endpoint).select_related("delivery").order_by("-id")
    )


def recent_attempts_for_user(*, user: User, limit: int = 20) -> list[DeliveryAttempt]:
    """The latest attempts to any of the user's endpoints, newest first."""
    return list(
        DeliveryAttempt.objects.filter(endpoint__owner=user)
        .select_related("delivery__event", "endpoint")
        .order_by("-id")[:limit]
    )


def events_for_user(
    *, user: User, after: int | None = None, patterns: list[str] | None = None
) -> QuerySet[Event]:
    """The user's stream, oldest first: after event ``after``, of the types ``patterns`` match
    ("*", "dispute.*", "offer.accepted")."""
    events = Event.objects.filter(user=user)
    if after is not None:
        events = events.filter(pk__gt=after)
    if patterns and "*" not in patterns:
        matching = Q()
        for pattern in patterns:
            if pattern.endswith(".*"):
                matching |= Q(type__startswith=pattern[:-1])
            else:
                matching |= Q(type=pattern)
        events = events.filter(matching)
    return events.order_by("pk")


def event_get_for_user(*, user: User, pk: int) -> Event:
    return get_object_or_404(Event.objects.filter(user=user), pk=pk)
