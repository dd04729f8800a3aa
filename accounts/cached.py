"""What every page asks about the logged-in user, kept in the shared cache instead of re-read.

Two things are read on every request: the names of the user's groups (the staff roles, which the
two-factor middleware checks for everyone) and the number of unread notifications (the header's
badge). Both are kept in the cache, keyed by the user, and forgotten whenever they change:

* group names — when a membership is added, removed or cleared from either side (granting or
  revoking a role, the admin's user or group form), and when a group is renamed or deleted;
* the unread count — when notifications are sent to the user or the user reads them.

Each is forgotten at once and again when the transaction that changed it commits, so a request
that read the old rows in between cannot keep them in the cache. ``TIMEOUT`` bounds what a
change made behind the code's back (raw SQL, a shell) could leave stale.

Only a cache that is not the database keeps them (Redis, as in production): with the database
cache a hit is a query too, and a miss several, so the rows are read directly instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import transaction

TIMEOUT = 300  # seconds

_GROUPS = "user-groups:{}"
_UNREAD = "user-unread:{}"


def _keeps() -> bool:
    return not isinstance(caches["default"], DatabaseCache)


def _read(key: str, compute: Callable):
    if not _keeps():
        return compute()
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, TIMEOUT)
    return value


def _forget(template: str, user_ids: Iterable[int]) -> None:
    keys = [template.format(pk) for pk in set(user_ids) if pk is not None]
    if not keys or not _keeps():
        return
    cache.delete_many(keys)
    transaction.on_commit(lambda: cache.delete_many(keys))


def group_names(user) -> frozenset[str]:
    """The names of the groups ``user`` belongs to."""
    if not user.pk:
        return frozenset()
    return frozenset(
        _read(_GROUPS.format(user.pk), lambda: sorted(user.groups.values_list("name", flat=True)))
    )


def forget_group_names(user_ids: Iterable[int]) -> None:
    _forget(_GROUPS, user_ids)


def unread_count(user_id: int, compute: Callable[[], int]) -> int:
    """The user's number of unread notifications; ``compute`` counts them when not kept."""
    return _read(_UNREAD.format(user_id), compute)


def forget_unread_count(user_ids: Iterable[int]) -> None:
    _forget(_UNREAD, user_ids)


# --- Group changes, from whichever side -----------------------------------------------------------


def _members(group) -> list[int]:
    return list(group.user_set.values_list("pk", flat=True))


def memberships_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """``m2m_changed`` of ``User.groups``: forget the group names of every user it touched."""
    if action not in {"post_add", "post_remove", "pre_clear", "post_clear"}:
        return
    if not reverse:  # user.groups.add/remove/clear
        forget_group_names([instance.pk])
    elif pk_set:  # group.user_set.add/remove
        forget_group_names(pk_set)
    elif action == "pre_clear":  # group.user_set.clear(): the members are known only before
        forget_group_names(_members(instance))


def group_saved(sender, instance, created, **kwargs) -> None:
    if not created:  # a renamed group renames every member's role
        forget_group_names(_members(instance))


def group_deleted(sender, instance, **kwargs) -> None:
    forget_group_names(_members(instance))
