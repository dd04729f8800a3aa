"""``manage.py enforce_deadlines``: one sweep, its counts, and a loud failure."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from core.models import SweepRun
from core.tasks import enforce_deadlines
from tests.kit import declare_broken_sweep

pytestmark = pytest.mark.django_db


def test_prints_each_sweeps_count():
    out = StringIO()

    call_command("enforce_deadlines", stdout=out)

    assert "disputes.refund_requests_expire: 0" in out.getvalue()
    assert "Handled 0 due row(s)." in out.getvalue()


def test_exits_non_zero_naming_a_failed_sweep_after_running_the_others(monkeypatch):
    declare_broken_sweep(monkeypatch, "tests.broken")
    out = StringIO()

    with pytest.raises(CommandError, match="tests.broken"):
        call_command("enforce_deadlines", stdout=out)

    assert "tests.broken: FAILED (see the log)" in out.getvalue()
    assert "disputes.refund_requests_expire: 0" in out.getvalue()


def test_records_when_the_sweep_finished():
    call_command("enforce_deadlines", stdout=StringIO())

    run = SweepRun.objects.get(name="deadlines")
    assert run.started_at <= run.finished_at
    assert (run.handled, run.failures) == (0, 0)


def test_the_beat_task_records_its_run_too_counting_the_failed_sweeps(monkeypatch):
    declare_broken_sweep(monkeypatch, "tests.broken")

    enforce_deadlines()
    enforce_deadlines()

    run = SweepRun.objects.get()
    assert (run.name, run.failures) == ("deadlines", 1)
