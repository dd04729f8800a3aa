"""``manage.py enforce_deadlines``: one sweep, its counts, and a loud failure."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

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
