import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory

from contracts.models import Contract, Milestone
from disputes.models import Dispute, RefundRequest

pytestmark = pytest.mark.django_db


class TestSeedDemo:
    def test_creates_users_with_the_printed_passwords_and_every_stage(self, capsys):
        call_command("seed_demo")

        out = capsys.readouterr().out
        for username, password in [("client", "client-demo-pass"), ("agent", "agent-demo-pass")]:
            assert f"{username:<11} {password}" in out
            login = RequestFactory().post("/login/")
            assert authenticate(login, username=username, password=password) is not None
        statuses = set(Milestone.objects.values_list("status", flat=True))
        assert {"PENDING", "FUNDED", "SUBMITTED", "RELEASED", "HELD", "REFUNDED"} <= statuses
        assert RefundRequest.objects.filter(status="OPEN").exists()
        assert set(Dispute.objects.values_list("status", flat=True)) == {
            "AWAITING_CLIENT",
            "IN_MEDIATION",
            "RESOLUTION_PROPOSED",
            "ARBITRATION_WINDOW",
            "IN_ARBITRATION",
        }

    def test_says_how_to_try_two_factor_authentication(self, capsys):
        call_command("seed_demo")

        out = capsys.readouterr().out
        assert "Two-factor authentication for staff is off until a staff user sets it up" in out
        assert "Two-factor authentication”" in out

    def test_running_it_twice_is_safe(self, capsys):
        call_command("seed_demo")
        contracts = Contract.objects.count()

        call_command("seed_demo")
        call_command("check_ledger")

        assert Contract.objects.count() == contracts
        assert "0 created" in capsys.readouterr().out
