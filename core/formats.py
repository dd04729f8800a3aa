"""Moments and sizes as people read them in the browser's messages and notices.

Templates show a moment with Django's ``date`` filter in the viewer's time zone; text built in
Python (a flash message, a panel's sentence) uses :func:`local_when` so it reads the same. Texts
that leave the request (e-mail, notifications) name moments in UTC with ``core.deadlines.when``.
"""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.dateformat import format as date_format


def local_when(moment: datetime) -> str:
    """Format ``moment`` in the current time zone, as the templates do: "21 Nov 2026, 09:00 CET"."""
    return date_format(timezone.localtime(moment), "j M Y, H:i T")


def human_size(size: int) -> str:
    """A size as people read it: "512 bytes", "3.7 KB", "10 MB", "1 GB"."""
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"
