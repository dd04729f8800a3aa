"""One check for every state machine in the project.

Each stateful model keeps its ``Status`` choices and a table of allowed transitions side by side;
services call :func:`ensure_transition` before they change a status, inside the transaction that
holds the row lock, so an illegal move raises before anything is written.
"""

from collections.abc import Mapping

from .errors import IllegalTransition


def ensure_transition(
    table: Mapping[str, frozenset[str]], *, model: str, current: str, target: str
) -> None:
    """Raise IllegalTransition unless ``current -> target`` is in ``table``."""
    if target not in table.get(current, frozenset()):
        raise IllegalTransition(model=model, current=current, target=target)
