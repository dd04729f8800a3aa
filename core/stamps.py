"""A stamp per user that changes whenever what the user sees may have changed.

Pages and API reads that a user asks for again and again (the contract history, which also asks
for itself every ``LIVE_POLL_SECONDS`` while it is open; See Dispute; the API's contract list and
dispute) keep what they computed in the shared cache with the reader's stamp (:func:`of`), and
compute it again only when the stamp has changed, or after ``STAMPED_CACHE_SECONDS`` at the most.

*What changes a stamp.* Every change to a case goes through ``core.actions.perform`` or
``core.actions.record_created`` (DESIGN §6): both call :func:`touch` with the people the rows
belong to (their contract's two parties, or their owner). A touched stamp is dropped when the
transaction commits; a reader that kept the rows as they were before under the old stamp loses
them then. A person's action drops it at once as well (a sweep, thousands of rows a batch, only
at the commit). A stamp is a random token, never a counter, so a stamp the cache evicted and made
again never matches an entry made under an older one.

*What a stamp does not follow*, which the time limit bounds: the passing of time itself (a
deadline passed, before the sweep that acts on it; "in 3 hours" becoming "in 2 hours"), and
edits outside the action tables (another user's name, a change in the admin).

*Reading the stamp first.* A reader takes the stamp before it reads the rows, so what it keeps
under a stamp is never older than that stamp.

If the cache cannot be reached, :func:`of` answers None (compute, keep nothing) and :func:`touch`
logs: a broken cache never stops a change to a case.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.middleware.csrf import get_token
from django.utils import timezone
from django.utils.crypto import salted_hmac

logger = logging.getLogger(__name__)

_PREFIX = "stamp:user:"
# A stamp nobody touched for a day is made afresh: that only costs its user one reading.
_STAMP_SECONDS = 24 * 3600


def _key(user_id: int) -> str:
    return f"{_PREFIX}{user_id}"


def of(user_id: int) -> str | None:
    """The user's current stamp (made if the cache has none), or None without a cache."""
    key = _key(user_id)
    try:
        stamp = cache.get(key)
        if stamp is None:
            stamp = secrets.token_hex(8)
            if not cache.add(key, stamp, timeout=_STAMP_SECONDS):  # another reader made one first
                stamp = cache.get(key)
    except Exception:  # noqa: BLE001 - any failure of the cache is a miss, never an error
        logger.warning("stamps: the cache cannot be read", exc_info=True)
        return None
    return stamp


def touch(user_ids: Iterable[int], *, at_once: bool = True) -> None:
    """The rows of these users change in the current transaction: drop their stamps once it
    commits (one drop for all the changes of a transaction), and, ``at_once``, now as well (a
    person's action: the request reads its own change next, before any commit in a test)."""
    keys = {_key(user_id) for user_id in user_ids if user_id is not None}
    if not keys:
        return
    in_transaction = transaction.get_connection().in_atomic_block
    if at_once or not in_transaction:
        _drop(sorted(keys))
    if in_transaction:
        _pending().keys.update(keys)


class _Drop:
    """The stamps a transaction drops when it commits: one callback per transaction."""

    def __init__(self):
        self.keys: set[str] = set()

    def __call__(self) -> None:
        _drop(sorted(self.keys))


def _pending() -> _Drop:
    """The drop of this transaction (of its current savepoint): registered by its first change,
    and taken with the savepoint's other callbacks if the savepoint is rolled back."""
    connection = transaction.get_connection()
    current = set(connection.savepoint_ids)
    for savepoints, callback, _robust in connection.run_on_commit:
        if isinstance(callback, _Drop) and savepoints == current:
            return callback
    drop = _Drop()
    transaction.on_commit(drop, robust=True)
    return drop


def _drop(keys: list[str]) -> None:
    try:
        cache.delete_many(keys)
    except Exception:  # noqa: BLE001 - the time limit bounds what a lost drop leaves stale
        logger.warning("stamps: %d stamps could not be dropped", len(keys), exc_info=True)


def get_or_compute(parts: tuple, compute, *, user_id: int):
    """``compute()``'s result for these ``parts`` (what else the result depends on: the
    request's parameters, the reader's time zone…) as kept under the user's stamp, or computed
    and kept for ``STAMPED_CACHE_SECONDS``.

    An entry holds the stamp and the time it was made under, and the stamp and the entry are
    read in one round trip: an entry whose stamp is not the user's current one, or older than
    the limit (the cache's own expiry, on the cache's clock, only frees the memory), is
    computed again.
    """
    if not settings.STAMPED_CACHE_SECONDS:
        return compute()
    stamp_key = _key(user_id)
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()
    key = f"kept:{user_id}:{digest}"
    try:
        found = cache.get_many([stamp_key, key])
        stamp = found.get(stamp_key) or of(user_id)
    except Exception:  # noqa: BLE001 - any failure of the cache is a miss, never an error
        logger.warning("stamps: the cache cannot be read", exc_info=True)
        return compute()
    if stamp is None:
        return compute()
    kept = found.get(key)
    now = time.time()
    if kept is not None and kept[0] == stamp and now - kept[1] < settings.STAMPED_CACHE_SECONDS:
        return kept[2]
    value = compute()
    try:
        cache.set(key, (stamp, now, value), timeout=settings.STAMPED_CACHE_SECONDS)
    except Exception:  # noqa: BLE001
        logger.warning("stamps: the cache cannot be written", exc_info=True)
    return value


def _csrf_slot() -> str:
    """What a kept page part holds in place of the CSRF token: the same in every process (they
    share the cache), and not a string a user could guess and write into a case."""
    return "csrf-slot-" + salted_hmac("core.stamps.csrf_slot", "slot").hexdigest()[:24]


def kept_data(request, name: str, compute):
    """An API read's ``compute()``, kept under the reader's stamp: one per operation ``name``,
    absolute URL (its links are absolute) and whether the reader may act."""
    from core.actions import may_act  # core.actions tells the stamps of what it changes

    parts = (name, request.build_absolute_uri(), may_act(request.user))
    return get_or_compute(parts, compute, user_id=request.user.pk)


def kept_html(request, name: str, render) -> str:
    """The HTML ``render(csrf_token)`` makes for this request, kept under the reader's stamp:
    one per page ``name``, path and query string, time zone, and whether the reader may act.

    The CSRF token differs from one browser session of the user to another: the kept HTML has a
    slot in its place, filled in for each request.
    """
    from core.actions import may_act  # core.actions tells the stamps of what it changes

    parts = (
        name,
        request.get_full_path(),
        may_act(request.user),
        timezone.get_current_timezone_name(),
    )
    slot = _csrf_slot()
    html = get_or_compute(parts, lambda: render(slot), user_id=request.user.pk)
    return html.replace(slot, get_token(request)) if slot in html else html
