from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from core.actions import AccountSuspended
from core.errors import InvalidInput, NotAllowed

from .models import Notification, User


def user_ensure_can_act(*, user: User) -> None:
    """Raise AccountSuspended when ``user`` may only read."""
    if user.suspended_at is not None:
        raise AccountSuspended()


@dataclass(frozen=True)
class Message:
    """A notification to create: who gets it, what it says, and where it links to."""

    user_id: int
    kind: str
    title: str
    body: str = ""
    url: str = ""


def notifications_send(*, messages: list[Message], now: datetime) -> list[int]:
    """Put ``messages`` in their users' inboxes; e-mail them once the transaction commits.

    Call inside the transaction that made the change the messages tell of: if it rolls back,
    nobody is told anything. Returns the new notifications' ids, in the order of ``messages``.
    """
    if not messages:
        return []
    if connection.vendor == "postgresql":
        # A sweep tells thousands of people at once: one INSERT over arrays, ids drawn first.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence('accounts_notification', 'id'))"
                " FROM generate_series(1, %s)",
                [len(messages)],
            )
            ids = [pk for (pk,) in cursor.fetchall()]
            cursor.execute(
                "INSERT INTO accounts_notification"
                " (id, user_id, kind, title, body, url, created_at)"
                " SELECT u.*, %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[],"
                " %s::text[], %s::text[], %s::text[]) AS u",
                [
                    now,
                    ids,
                    [m.user_id for m in messages],
                    [m.kind for m in messages],
                    [m.title[:200] for m in messages],
                    [m.body for m in messages],
                    [m.url for m in messages],
                ],
            )
    else:
        created = Notification.objects.bulk_create(
            Notification(
                user_id=m.user_id,
                kind=m.kind,
                title=m.title[:200],
                body=m.body,
                url=m.url,
                created_at=now,
            )
            for m in messages
        )
        ids = [n.pk for n in created]

    def enqueue() -> None:
        from .tasks import deliver_notification_emails

        deliver_notification_emails.delay(notification_ids=ids)

    transaction.on_commit(enqueue)
    return ids


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: User, now: datetime) -> None:
    """Mark one of the user's own notifications as read (again is harmless)."""
    Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(
        read_at=now
    )


@transaction.atomic
def notifications_mark_all_read(*, user: User, now: datetime) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)


@transaction.atomic
def user_suspend(*, user: User, actor: User, reason: str, now: datetime) -> User:
    """Suspend an account that ignores its obligations: it may log in and read, not act."""
    if not actor.is_staff:
        raise NotAllowed("Only staff suspend accounts.")
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("Give the reason for the suspension.", fields={"reason": ["Required."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.suspended_at is None:
        user.suspended_at, user.suspension_reason = now, text
        user.save(update_fields=["suspended_at", "suspension_reason"])
        notifications_send(
            messages=[
                Message(
                    user_id=user.pk,
                    kind="account_suspended",
                    title="Your account is suspended",
                    body=f"You can still log in and read, but not take actions. Reason: {text}",
                )
            ],
            now=now,
        )
    return user


@transaction.atomic
def user_reinstate(*, user: User, actor: User, now: datetime) -> User:
    """Lift a suspension."""
    if not actor.is_staff:
        raise NotAllowed("Only staff reinstate accounts.")
    User.objects.filter(pk=user.pk).update(suspended_at=None, suspension_reason="")
    user.refresh_from_db()
    return user
