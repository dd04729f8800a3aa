"""Money stories, told through the services, that read like bookkeeping."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from contracts import services
from contracts.models import Account, Entry, LedgerTransaction, Milestone
from tests import kit
from tests.kit import make_milestone


def balance(user, kind, currency="USD") -> Decimal:
    # The kit's, with the owner first, as these stories read.
    return kit.balance(kind, user, currency)


def assert_every_transaction_sums_to_zero():
    for ledger_transaction in LedgerTransaction.objects.all():
        total = ledger_transaction.entries.aggregate(total=Sum("amount"))["total"]
        assert total == 0, ledger_transaction


@pytest.mark.django_db
class TestFundThenReleaseInTwoParts:
    def test_client_funds_500_releases_200_then_300_and_the_freelancer_holds_500(
        self, contract, capsys
    ):
        milestone = services.milestone_create(
            contract=contract,
            actor=contract.client,
            title="Design",
            amount="500.00",
            now=timezone.now(),
        )

        services.milestone_fund(milestone=milestone, actor=contract.client, now=timezone.now())
        services.milestone_release(
            milestone=milestone, actor=contract.client, amount="200.00", now=timezone.now()
        )
        milestone.refresh_from_db()
        status_after_first_release = milestone.status
        services.milestone_release(
            milestone=milestone, actor=contract.client, amount="300.00", now=timezone.now()
        )

        milestone.refresh_from_db()
        milestone.escrow_account.refresh_from_db()
        assert status_after_first_release == Milestone.Status.FUNDED
        assert milestone.status == Milestone.Status.RELEASED
        assert milestone.escrow_balance == Decimal("0.00")
        assert balance(contract.freelancer, Account.Kind.EARNINGS) == Decimal("500.00")
        assert balance(contract.client, Account.Kind.FUNDING) == Decimal("-500.00")
        assert LedgerTransaction.objects.count() == 3
        assert Entry.objects.count() == 6
        assert_every_transaction_sums_to_zero()
        call_command("check_ledger")
        assert "The ledger is consistent." in capsys.readouterr().out

    def test_submitted_work_released_in_full_without_an_amount(self, contract):
        milestone = make_milestone(contract, amount="750.00", submitted=True)

        services.milestone_release(milestone=milestone, actor=contract.client, now=timezone.now())

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.RELEASED
        assert balance(contract.freelancer, Account.Kind.EARNINGS) == Decimal("750.00")
        assert_every_transaction_sums_to_zero()
        call_command("check_ledger")

    def test_two_milestones_keep_separate_escrows(self, contract):
        first = make_milestone(contract, amount="100.00", funded=True)
        second = make_milestone(contract, amount="250.50", funded=True)

        services.milestone_release(milestone=first, actor=contract.client, now=timezone.now())

        first.escrow_account.refresh_from_db()
        second.escrow_account.refresh_from_db()
        assert first.escrow_balance == Decimal("0.00")
        assert second.escrow_balance == Decimal("250.50")
        assert balance(contract.freelancer, Account.Kind.EARNINGS) == Decimal("100.00")
        assert balance(contract.client, Account.Kind.FUNDING) == Decimal("-350.50")
        call_command("check_ledger")
