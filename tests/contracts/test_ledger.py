from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from contracts import ledger
from contracts.models import Account, Entry, LedgerRowImmutable, LedgerTransaction
from tests.kit import make_milestone

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(client_user, now):
    funding = ledger.account_get_or_create(
        kind=Account.Kind.FUNDING, currency="USD", owner=client_user, now=now
    )
    refunds = ledger.account_get_or_create(
        kind=Account.Kind.REFUNDS, currency="USD", owner=client_user, now=now
    )
    return funding, refunds


class TestPost:
    def test_writes_balanced_entries_and_moves_the_cached_balances(self, accounts, now):
        funding, refunds = accounts

        movement = ledger.post(
            kind=LedgerTransaction.Kind.REFUND,
            currency="USD",
            legs=[ledger.Leg(funding, Decimal("-10.00")), ledger.Leg(refunds, Decimal("10.00"))],
            now=now,
        )

        funding.refresh_from_db()
        refunds.refresh_from_db()
        assert sorted(movement.entries.values_list("amount", flat=True)) == [
            Decimal("-10.00"),
            Decimal("10.00"),
        ]
        assert funding.balance == Decimal("-10.00")
        assert refunds.balance == Decimal("10.00")

    def test_refuses_legs_that_do_not_sum_to_zero(self, accounts, now):
        funding, refunds = accounts

        with pytest.raises(ledger.UnbalancedTransaction):
            ledger.post(
                kind=LedgerTransaction.Kind.REFUND,
                currency="USD",
                legs=[ledger.Leg(funding, Decimal("-10.00")), ledger.Leg(refunds, Decimal("9.99"))],
                now=now,
            )

        assert LedgerTransaction.objects.count() == 0

    def test_refuses_a_single_leg(self, accounts, now):
        with pytest.raises(ledger.UnbalancedTransaction):
            ledger.post(
                kind=LedgerTransaction.Kind.REFUND,
                currency="USD",
                legs=[ledger.Leg(accounts[0], Decimal("0"))],
                now=now,
            )

    def test_refuses_an_account_of_another_currency(self, accounts, client_user, now):
        euros = ledger.account_get_or_create(
            kind=Account.Kind.REFUNDS, currency="EUR", owner=client_user, now=now
        )

        with pytest.raises(ledger.CurrencyMismatch), transaction.atomic():
            ledger.post(
                kind=LedgerTransaction.Kind.REFUND,
                currency="USD",
                legs=[
                    ledger.Leg(accounts[0], Decimal("-1.00")),
                    ledger.Leg(euros, Decimal("1.00")),
                ],
                now=now,
            )

        assert LedgerTransaction.objects.count() == 0

    def test_refuses_to_take_a_held_account_below_zero(self, accounts, now):
        funding, refunds = accounts

        with pytest.raises(ledger.InsufficientFunds), transaction.atomic():
            ledger.post(
                kind=LedgerTransaction.Kind.REFUND,
                currency="USD",
                legs=[ledger.Leg(refunds, Decimal("-1.00")), ledger.Leg(funding, Decimal("1.00"))],
                now=now,
            )

        assert LedgerTransaction.objects.count() == 0

    def test_gives_each_user_one_account_per_kind_and_currency(self, client_user, now):
        first = ledger.account_get_or_create(
            kind=Account.Kind.EARNINGS, currency="USD", owner=client_user, now=now
        )
        again = ledger.account_get_or_create(
            kind=Account.Kind.EARNINGS, currency="USD", owner=client_user, now=now
        )

        assert first.pk == again.pk


class TestRowsAreAppendOnlyInTheModels:
    def test_a_saved_transaction_cannot_be_saved_again(self, contract):
        movement = make_milestone(contract, funded=True).ledger_transactions.get()
        movement.memo = "changed"

        with pytest.raises(LedgerRowImmutable):
            movement.save()

    def test_entries_cannot_be_deleted_or_updated_in_bulk(self, contract):
        make_milestone(contract, funded=True)

        with pytest.raises(LedgerRowImmutable):
            Entry.objects.all().delete()
        with pytest.raises(LedgerRowImmutable):
            Entry.objects.update(amount=Decimal("1.00"))
        with pytest.raises(LedgerRowImmutable):
            Entry.objects.first().delete()

        assert Entry.objects.count() == 2


class TestCheckLedger:
    def test_passes_on_a_consistent_ledger(self, contract, capsys):
        make_milestone(contract, funded=True)

        call_command("check_ledger")

        assert "The ledger is consistent." in capsys.readouterr().out

    def test_names_an_account_whose_cached_balance_is_stale(self, contract, capsys):
        milestone = make_milestone(contract, funded=True)
        Account.objects.filter(pk=milestone.escrow_account_id).update(balance=Decimal("499.00"))

        with pytest.raises(CommandError):
            call_command("check_ledger")

        err = capsys.readouterr().err
        assert "FAIL cached balances equal the sum of entries" in err
        assert f"Account #{milestone.escrow_account_id} Milestone escrow" in err
        assert "caches 499.00 but its entries sum to 500.00" in err

    def test_names_a_closed_milestone_that_still_holds_money(self, contract, capsys):
        milestone = make_milestone(contract, funded=True)
        type(milestone).objects.filter(pk=milestone.pk).update(status="RELEASED")

        with pytest.raises(CommandError):
            call_command("check_ledger")

        assert f"Milestone #{milestone.pk}: Milestone is RELEASED but its escrow still holds" in (
            capsys.readouterr().err
        )

    def test_names_an_unbalanced_transaction(self, contract, capsys):
        milestone = make_milestone(contract)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # Bypass the database's own guard to plant what check_ledger must find.
                cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute(
                "INSERT INTO contracts_ledgertransaction (kind, currency, memo, created_at)"
                " VALUES ('REFUND', 'USD', 'planted', %s)",
                [timezone.now()],
            )
            planted = LedgerTransaction.objects.get(memo="planted")
            cursor.execute(
                "INSERT INTO contracts_entry (transaction_id, account_id, amount)"
                " VALUES (%s, %s, %s)",
                [planted.pk, milestone.escrow_account_id, "5.00"],
            )
            cursor.execute(
                "UPDATE contracts_account SET balance = 5.00 WHERE id = %s",
                [milestone.escrow_account_id],
            )

        with pytest.raises(CommandError, match="invariant"):
            call_command("check_ledger")

        err = capsys.readouterr().err
        assert "FAIL every transaction sums to zero" in err
        assert f"Transaction #{planted.pk} has 1 entries summing to 5.00" in err

    def test_names_a_held_account_below_zero(self, contract, capsys):
        milestone = make_milestone(contract)
        with connection.cursor() as cursor:
            # Lift the database's own check (inside this test's transaction) to plant the row.
            if connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute(
                    "ALTER TABLE contracts_account DROP CONSTRAINT account_balance_not_negative"
                )
            else:
                cursor.execute("PRAGMA ignore_check_constraints = ON")
            cursor.execute(
                "UPDATE contracts_account SET balance = -5.00 WHERE id = %s",
                [milestone.escrow_account_id],
            )
            if connection.vendor != "postgresql":
                cursor.execute("PRAGMA ignore_check_constraints = OFF")

        with pytest.raises(CommandError):
            call_command("check_ledger")

        err = capsys.readouterr().err
        assert "FAIL no account but a funding source is below zero" in err
        assert (
            f"Account #{milestone.escrow_account_id} Milestone escrow (USD) has a negative" in err
        )


class TestPostMany:
    def test_writes_a_batch_and_moves_a_shared_account_by_the_sum_of_its_legs(self, contract, now):
        first = make_milestone(contract, amount="100.00", funded=True)
        second = make_milestone(contract, amount="40.00", funded=True)
        refunds = ledger.account_get_or_create(
            kind=Account.Kind.REFUNDS, currency="USD", owner=contract.client, now=now
        )
        before = LedgerTransaction.objects.count()

        written = ledger.post_many(
            movements=[
                ledger.Movement(
                    kind=LedgerTransaction.Kind.REFUND,
                    currency="USD",
                    legs=[
                        ledger.Leg(milestone.escrow_account, -milestone.amount),
                        ledger.Leg(refunds, milestone.amount),
                    ],
                    milestone=milestone,
                )
                for milestone in (first, second)
            ],
            now=now,
        )

        refunds.refresh_from_db()
        assert [LedgerTransaction.objects.get(pk=pk).milestone_id for pk in written] == [
            first.pk,
            second.pk,
        ]
        assert LedgerTransaction.objects.count() == before + 2
        assert refunds.balance == Decimal("140.00")
        assert Account.objects.get(pk=first.escrow_account_id).balance == 0
        call_command("check_ledger")

    def test_writes_nothing_of_the_batch_when_one_movement_overdraws(self, contract, now):
        milestone = make_milestone(contract, amount="100.00", funded=True)
        refunds = ledger.account_get_or_create(
            kind=Account.Kind.REFUNDS, currency="USD", owner=contract.client, now=now
        )
        legs = [
            ledger.Leg(milestone.escrow_account, Decimal("-60.00")),
            ledger.Leg(refunds, Decimal("60.00")),
        ]
        before = LedgerTransaction.objects.count()

        with pytest.raises(ledger.InsufficientFunds), transaction.atomic():
            ledger.post_many(
                movements=[
                    ledger.Movement(kind=LedgerTransaction.Kind.REFUND, currency="USD", legs=legs),
                    ledger.Movement(kind=LedgerTransaction.Kind.REFUND, currency="USD", legs=legs),
                ],
                now=now,
            )

        assert LedgerTransaction.objects.count() == before
        assert Account.objects.get(pk=milestone.escrow_account_id).balance == Decimal("100.00")
