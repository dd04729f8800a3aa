from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection, transaction

from core import audit, outbox
from core.actions import Actor, holds_role
from core.errors import AccountSuspended, ConflictOfInterest, InvalidInput, NotAllowed

from . import cached
from .models import Notification, Role, User
from .outbox import EMAILS


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
    nobody is told anything; if it commits, each notification owes its e-mail, which the outbox
    delivers even when the broker or the mail server is down for a while (``accounts.outbox``).
    Returns the new notifications' ids, in the order of ``messages``.
    """
    if not messages:
        return []
    owed_from = EMAILS.first_attempt_at(now)
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
                " (id, user_id, kind, title, body, url, created_at, email_next_attempt_at)"
                " SELECT u.*, %s, %s FROM unnest(%s::bigint[], %s::bigint[], %s::text[],"
                " %s::text[], %s::text[], %s::text[]) AS u",
                [
                    now,
                    owed_from,
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
                email_next_attempt_at=owed_from,
            )
            for m in messages
        )
        ids = [n.pk for n in created]
    outbox.enqueue_on_commit(EMAILS, ids)
    cached.forget_unread_count(m.user_id for m in messages)
    return ids


@transaction.atomic
def notification_mark_read(*, notification: Notification, user: User, now: datetime) -> None:
    """Mark one of the user's own notifications as read (again is harmless)."""
    Notification.objects.filter(pk=notification.pk, user=user, read_at__isnull=True).update(
        read_at=now
    )
    cached.forget_unread_count([user.pk])


@transaction.atomic
def notifications_mark_all_read(*, user: User, now: datetime) -> int:
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=now)
    cached.forget_unread_count([user.pk])
    return marked


# Whether ``actor`` deals with ``user`` as a party (a contract between them): higher apps, which
# know what a contract is, register ``conflict(actor, user) -> bool`` here.
SUSPENSION_CONFLICTS: list = []


def _ensure_may_suspend(*, actor: User, user: User) -> None:
    if actor.suspended_at is not None:
        raise AccountSuspended()
    if not (holds_role(actor, Actor.SUPPORT) or holds_role(actor, Actor.ARBITRATOR)):
        raise NotAllowed("Only support staff and arbitrators suspend or reinstate accounts.")
    if actor.pk == user.pk:
        raise NotAllowed("Another staff member has to decide on your own account.")
    if any(conflict(actor, user) for conflict in SUSPENSION_CONFLICTS):
        raise ConflictOfInterest(
            "You have a contract with this account: another staff member has to decide on it."
        )


@transaction.atomic
def user_suspend(*, user: User, actor: User, reason: str, now: datetime) -> User:
    """Suspend an account that ignores its obligations: it may log in and read, not act.

    Support staff and arbitrators suspend (roles are groups), never their own account.
    """
    _ensure_may_suspend(actor=actor, user=user)
    text = (reason or "").strip()
    if not text:
        raise InvalidInput("Give the reason for the suspension.", fields={"reason": ["Required."]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.suspended_at is None:
        user.suspended_at, user.suspension_reason = now, text
        user.save(update_fields=["suspended_at", "suspension_reason"])
        audit.action(
            user=actor, name="user.suspend", obj=user, description=f"{user}: {text}", now=now
        )
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
    _ensure_may_suspend(actor=actor, user=user)
    User.objects.filter(pk=user.pk).update(suspended_at=None, suspension_reason="")
    user.refresh_from_db()
    audit.action(user=actor, name="user.reinstate", obj=user, now=now)
    return user


# Roles as the command line and the admin name them.
ROLE_NAMES = {
    "agent": Role.MEDIATION_AGENT,
    "senior": Role.SENIOR_MEDIATION_AGENT,
    "arbitrator": Role.ARBITRATOR,
    "support": Role.SUPPORT,
}


def role_named(name: str) -> Role:
    """The role called ``name``: "agent", "arbitrator", "support", or a group name."""
    wanted = (name or "").strip()
    for role in Role:
        if wanted.lower() in {role.value.lower(), role.name.lower()}:
            return role
    if wanted.lower() in ROLE_NAMES:
        return ROLE_NAMES[wanted.lower()]
    choices = ", ".join(sorted(ROLE_NAMES))
    raise InvalidInput(
        f"No role is called {wanted!r}: choose {choices}.", fields={"role": [choices]}
    )


@transaction.atomic
def user_role_grant(*, user: User, role: Role) -> User:
    """Give ``user`` a staff role: membership of its group is the role, and ``is_staff`` lets
    them into the admin site, where their queue is. The one way staff are set up."""
    from django.contrib.auth.models import Group

    user = User.objects.select_for_update().get(pk=user.pk)
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_role_revoke(*, user: User, role: Role) -> User:
    """Take a staff role away; with no role left, an account that is not a superuser leaves the
    admin site too."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.groups.remove(*user.groups.filter(name=role.value))
    holds_any = user.groups.filter(name__in=Role.values).exists()
    if user.is_staff and not holds_any and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_away_set(*, user: User, away: bool, now: datetime) -> User:
    """Mark a staff member away (no new cases are assigned to them automatically) or back.

    They keep the cases they have; marking away twice keeps the first time.
    """
    if not (holds_role(user, Actor.AGENT) or holds_role(user, Actor.ARBITRATOR)):
        raise NotAllowed("Only mediation agents and arbitrators take cases by assignment.")
    user = User.objects.select_for_update().get(pk=user.pk)
    if away and user.away_since is None:
        user.away_since = now
    elif not away:
        user.away_since = None
    user.save(update_fields=["away_since"])
    audit.action(user=user, name="user.away" if away else "user.back", obj=user, now=now)
    return user
