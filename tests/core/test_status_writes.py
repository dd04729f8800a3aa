"""Nothing writes a status but the action machinery (``core.actions.perform``).

The scan reads every module of the apps and fails on any other code that assigns ``.status``,
``setattr``s it, passes ``status=`` to a queryset's ``update``, names it in ``update_fields``
or in a ``bulk_update``. Rows are created in one of their lifecycle's initial states; every
change after that is a declared action.
"""

import ast
from pathlib import Path

import pytest
from django.apps import apps

from core.actions import Lifecycle

ROOT = Path(__file__).resolve().parents[2]
APPS = [
    "accounts",
    "contracts",
    "core",
    "disputes",
    "mediation",
    "arbitration",
    "webhooks",
    "config",
]
THE_MACHINERY = ROOT / "core" / "actions.py"


def modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts and path != THE_MACHINERY:
                yield path


def _names_status(node) -> bool:
    return isinstance(node, ast.Constant) and node.value == "status"


def status_writes(path: Path) -> list[str]:
    """Each place in ``path`` that writes a status, as "file:line: how"."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        where = f"{path.name}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for item in ast.walk(target):
                    if isinstance(item, ast.Attribute) and item.attr == "status":
                        found.append(f"{where}: assigns .status")
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name == "setattr" and len(node.args) >= 2 and _names_status(node.args[1]):
                found.append(f"{where}: setattr(…, 'status', …)")
            if name == "update" and any(k.arg == "status" for k in node.keywords):
                found.append(f"{where}: update(status=…)")
            for keyword in node.keywords:
                if keyword.arg == "update_fields" and any(
                    _names_status(item) for item in ast.walk(keyword.value)
                ):
                    found.append(f"{where}: save(update_fields=[…'status'…])")
            if name == "bulk_update" and any(
                _names_status(item) for arg in node.args[1:] for item in ast.walk(arg)
            ):
                found.append(f"{where}: bulk_update(…, ['status'…])")
    return found


def test_no_code_but_the_action_machinery_writes_a_status():
    writes = [write for path in modules() for write in status_writes(path)]

    assert writes == []


def test_the_scan_would_catch_each_way_of_writing_a_status(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "row.status = 'X'\n"
        "setattr(row, 'status', 'X')\n"
        "Row.objects.filter(pk=1).update(status='X')\n"
        "row.save(update_fields=['status'])\n"
        "Row.objects.bulk_update(rows, ['status'])\n"
    )

    writes = status_writes(sample)

    assert len(writes) == 5


@pytest.mark.parametrize(
    "model",
    [
        m
        for m in apps.get_models()
        if isinstance(getattr(m, "lifecycle", None), Lifecycle) and not m._meta.proxy
    ],
    ids=lambda m: m.__name__,
)
def test_every_stateful_model_declares_its_initial_states_and_actions(model):
    lifecycle = model.lifecycle

    assert lifecycle.model is model
    assert lifecycle.initial, f"{model.__name__} declares no initial state"
    assert lifecycle.initial <= set(lifecycle.statuses.values)
    assert list(lifecycle), f"{model.__name__} declares no action"


def test_every_model_with_a_status_has_a_lifecycle():
    stateful = [
        m
        for m in apps.get_models()
        if any(f.name == "status" for f in m._meta.concrete_fields) and not m._meta.proxy
    ]

    missing = [
        m.__name__ for m in stateful if not isinstance(getattr(m, "lifecycle", None), Lifecycle)
    ]

    assert missing == []


def test_every_enforced_deadline_is_applied_by_a_system_action_declared_after_it():
    from core import deadlines

    for kind in deadlines.declared():
        if kind.apply is None:
            continue
        lifecycle = kind.model_class.lifecycle
        after = [a for a in lifecycle if a.after == kind.name]
        assert after, f"{kind.model} declares no action applied after {kind.name}"
        assert all(a.actors == {"system"} for a in after), kind.name
        assert all(set(kind.statuses) <= a.sources for a in after), kind.name
