"""Moments and sizes as people read them: always in the reader's time zone, with the zone named.

Templates show a moment with Django's ``date`` filter in the viewer's time zone; text built in
Python (a flash message, a panel's sentence) uses :func:`local_when` so it reads the same.

Texts written once and read later by several people (timeline notes, notification bodies, a
refusal's message) store each moment once, in UTC, as ``core.deadlines.when`` writes it
("2026-12-07 00:49 UTC"): the API hands them out so, like every other time it returns. Whoever
reads such a text in the browser or an e-mail gets it through :func:`in_reader_zone`, which
rewrites each stored moment in the reader's zone ("7 Dec 2026, 01:49 CET"); the templates do so
with the ``local_times`` filter.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, tzinfo

from django.utils import timezone
from django.utils.dateformat import format as date_format

# A moment as ``core.deadlines.when`` writes it into a stored text.
STORED_MOMENT = re.compile(r"\b(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}) UTC\b")


def local_when(moment: datetime, zone: tzinfo | None = None) -> str:
    """Format ``moment`` in ``zone`` (else the current one), as the templates do:
    "21 Nov 2026, 09:00 CET"."""
    return date_format(timezone.localtime(moment, zone), "j M Y, H:i T")


def zone_of(user) -> tzinfo:
    """The time zone ``user`` reads in (UTC for anyone without a valid one)."""
    try:
        return zoneinfo.ZoneInfo(getattr(user, "time_zone", "") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return UTC


def in_reader_zone(text: str, zone: tzinfo | None = None) -> str:
    """Rewrite each stored UTC moment in ``text`` in ``zone`` (else the current time zone)."""

    def rewrite(match: re.Match) -> str:
        year, month, day, hour, minute = (int(part) for part in match.groups())
        try:
            moment = datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError:
            return match.group(0)
        return local_when(moment, zone)

    return STORED_MOMENT.sub(rewrite, text) if text else text


def human_size(size: int) -> str:
    """A size as people read it: "512 bytes", "3.7 KB", "10 MB", "1 GB"."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
