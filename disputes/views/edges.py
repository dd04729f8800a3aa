"""What every page here shares: the viewer's role, a service's field errors on a form, uploads.

Two actions call their service once per uploaded file (saving the details step, adding evidence);
they run in one transaction and delete the files they stored if it rolls back, so a refused file
leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Callable

from django import forms

from contracts.models import Contract
from core.actions import atomic
from core.errors import DomainError
from core.forms import refusal_on_form

from ..models import Evidence


def _role(contract: Contract, user) -> str | None:
    return contract.role_of(user)


def _add_field_errors(
    form: forms.Form, exc: DomainError, aliases: dict[str, str] | None = None
) -> bool:
    """Put the service's errors on ``form``, each once; return whether any named a form field."""
    return refusal_on_form(form, exc, aliases)


def _store_each(files: list, add: Callable[[object], Evidence]) -> list[Evidence]:
    """Call ``add`` for each file in one transaction; on a refusal, delete what was stored."""
    stored: list[Evidence] = []
    try:
        with atomic():
            for upload in files:
                stored.append(add(upload))
    except DomainError:
        _discard(stored)
        raise
    return stored


def _discard(stored: list[Evidence]) -> None:
    for evidence in stored:
        evidence.file.delete(save=False)


def _files_text(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"
