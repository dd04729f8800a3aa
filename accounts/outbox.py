"""The e-mail outbox: each notification owes its user one e-mail (``core.outbox``).

``notifications_send`` writes the notifications in the change's transaction, owed from then on;
``accounts.tasks.deliver_notification_emails`` sends them after commit, and
``accounts.tasks.relay_notification_emails`` (beat, every minute) sends whatever is still owed
after ``EMAIL_OUTBOX_GRACE``. The e-mails of one batch go out over one connection to the mail
server. A message the server refuses (a bad address) is tried again after 1, 2, 4, … grace
periods and given up, with an ERROR logged, after ``EMAIL_OUTBOX_MAX_ATTEMPTS``; a server that
cannot be reached costs no attempt: the e-mails wait for it.
"""

from __future__ import annotations

import contextlib
import smtplib
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from core import outbox
from core.formats import in_reader_zone, zone_of

from .models import Notification


def _grace() -> timedelta:
    return settings.EMAIL_OUTBOX_GRACE


def _retry_after(attempts: int) -> timedelta | None:
    if attempts >= settings.EMAIL_OUTBOX_MAX_ATTEMPTS:
        return None
    return settings.EMAIL_OUTBOX_GRACE * 2 ** (attempts - 1)


def _server_gone(error: Exception) -> bool:
    """Whether sending failed because the server went away, not because of the message."""
    if isinstance(error, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    return isinstance(error, OSError) and not isinstance(error, smtplib.SMTPException)


def _describe(error: Exception) -> str:
    return f"{type(error).__name__}: {error}"


def deliver_emails(ids: list[int], *, now: datetime) -> outbox.Outcome:
    """E-mail the notifications ``ids`` (claimed), one message each, over one connection."""
    done = outbox.Outcome()
    messages = []
    notifications = Notification.objects.filter(pk__any=ids).select_related("user").order_by("pk")
    for notification in notifications:
        if not notification.user.email:
            done.skipped[notification.pk] = "The user has no e-mail address."
            continue
        # The recipient reads the moments the text names in their own time zone.
        zone = zone_of(notification.user)
        body = in_reader_zone(notification.body, zone)
        body = f"{body}\n\n{settings.SITE_URL}{notification.url}".strip()
        message = EmailMessage(
            subject=in_reader_zone(notification.title, zone),
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.user.email],
        )
        messages.append((notification.pk, message))
    if not messages:
        return done
    connection = get_connection()
    try:
        connection.open()
    except Exception as error:
        done.unreachable, done.reason = [pk for pk, _ in messages], _describe(error)
        return done
    try:
        for index, (pk, message) in enumerate(messages):
            try:
                sent = connection.send_messages([message])
            except Exception as error:
                if _server_gone(error):
                    done.unreachable = [pk for pk, _ in messages[index:]]
                    done.reason = _describe(error)
                    break
                done.failed[pk] = _describe(error)
                continue
            if sent:
                done.delivered.append(pk)
            else:
                done.failed[pk] = "The e-mail backend sent nothing."
    finally:
        # The messages went out (or not) already: a failed goodbye changes nothing.
        with contextlib.suppress(Exception):
            connection.close()
    return done


EMAILS = outbox.register(
    outbox.OutboxKind(
        name="accounts.emails",
        model="accounts.Notification",
        task="accounts.tasks.deliver_notification_emails",
        task_ids="notification_ids",
        deliver=deliver_emails,
        grace=_grace,
        batch_size=lambda: settings.EMAIL_OUTBOX_BATCH_SIZE,
        retry_after=_retry_after,
        max_attempts=lambda: settings.EMAIL_OUTBOX_MAX_ATTEMPTS,
        delivered_at="emailed_at",
        next_attempt_at="email_next_attempt_at",
        attempts="email_attempts",
        error="email_error",
    )
)
