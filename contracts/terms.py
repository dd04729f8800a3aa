"""Frozen terms: what a milestone said when its client funded it, and the hash that proves it.

When a milestone is funded, its title, description, amount, currency and due date are copied to
a ``MilestoneTerms`` row with the moment of funding (``frozen_at``) and a SHA-256 over a
canonical JSON of them, so a later scope dispute ("that was never in the milestone") is argued
from the terms both parties agreed to pay for, not from memory.

The canonical JSON is what :func:`terms_fields` returns — every value a string (the amount with
the currency's places, the due date ``YYYY-MM-DD``, ``frozen_at`` ISO 8601 in UTC with "Z") or
null — dumped with sorted keys, no whitespace (``","`` and ``":"``) and UTF-8 as is
(``ensure_ascii=False``). Anyone holding the terms as the API shows them recomputes the hash
with those three rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

from core.money import format_amount


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def terms_fields(
    *,
    title: str,
    description: str,
    amount: Decimal,
    currency: str,
    due_date: dt.date | None,
    frozen_at: dt.datetime,
) -> dict[str, str | None]:
    """The hashed terms, as the canonical JSON and the API carry them."""
    return {
        "title": title,
        "description": description,
        "amount": format_amount(amount, currency),
        "currency": currency,
        "due_date": due_date.isoformat() if due_date is not None else None,
        "frozen_at": _utc(frozen_at),
    }


def canonical_json(fields: dict[str, str | None]) -> bytes:
    """The one byte string the hash is taken over (see the module docstring)."""
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def terms_sha256(fields: dict[str, str | None]) -> str:
    """The hex SHA-256 of ``fields`` in canonical JSON."""
    return hashlib.sha256(canonical_json(fields)).hexdigest()
