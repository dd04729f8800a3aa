"""What the database itself guarantees about the ledger, and releases racing each other."""

import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from contracts import services
from contracts.models import Account, Entry, LedgerTransaction, Milestone
from core.errors import DomainError
from tests.kit import make_milestone

pytestmark = pytest.mark.postgres


def run_at_once(*actions):
    """Run each action in its own thread and database connection, all released together."""
    barrier = threading.Barrier(len(actions))
    outcomes: list = [None] * len(actions)

    def worker(index, action):
        try:
            barrier.wait()
            outcomes[index] = action()
        except Exception as error:  # noqa: BLE001 - the outcome is what the test inspects
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.django_db
class TestTheDatabaseRefusesToChangeLedgerRows:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE contracts_entry SET amount = amount + 1",
            "DELETE FROM contracts_entry",
            "UPDATE contracts_ledgertransaction SET memo = 'edited'",
            "DELETE FROM contracts_ledgertransaction",
        ],
    )
    def test_rejects_an_update_or_delete_written_in_sql(self, contract, statement):
        make_milestone(contract, funded=True)

        with (
            pytest.raises(IntegrityError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)

        assert Entry.objects.count() == 2
        assert LedgerTransaction.objects.get().memo.startswith("Fund milestone")


@pytest.mark.django_db(transaction=True)
class TestTheDatabaseRefusesAnUnbalancedTransaction:
    def test_entries_that_do_not_sum_to_zero_cannot_be_committed(self, contract):
        milestone = make_milestone(contract)
        before = LedgerTransaction.objects.count()

        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            movement = LedgerTransaction.objects.create(
                kind="FUNDING", currency="USD", created_at=timezone.now()
            )
            Entry.objects.create(
                transaction=movement, account=milestone.escrow_account, amount=Decimal("5.00")
            )

        assert LedgerTransaction.objects.count() == before
        assert Entry.objects.count() == 0

    def test_a_transaction_without_entries_cannot_be_committed(self):
        with pytest.raises(IntegrityError, match="unbalanced"), transaction.atomic():
            LedgerTransaction.objects.create(
                kind="FUNDING", currency="USD", created_at=timezone.now()
            )

        assert LedgerTransaction.objects.count() == 0

    def test_entries_in_another_currency_cannot_be_committed(self, contract, client_user):
        milestone = make_milestone(contract)
        euros = Account.objects.create(
            kind=Account.Kind.FUNDING, owner=client_user, currency="EUR", created_at=timezone.now()
        )

        with pytest.raises(IntegrityError, match="another currency"), transaction.atomic():
            movement = LedgerTransaction.objects.create(
                kind="FUNDING", currency="USD", created_at=timezone.now()
            )
            Entry.objects.create(transaction=movement, account=euros, amount=Decimal("-5.00"))
            Entry.objects.create(
                transaction=movement, account=milestone.escrow_account, amount=Decimal("5.00")
            )

        assert LedgerTransaction.objects.count() == 0


@pytest.mark.django_db(transaction=True)
class TestConcurrentReleases:
    def test_two_releases_of_300_from_500_release_only_one(self, contract):
        milestone = make_milestone(contract, amount="500.00", submitted=True)

        def release():
            return services.milestone_release(
                milestone=milestone, actor=contract.client, amount="300.00", now=timezone.now()
            )

        outcomes = run_at_once(release, release)

        milestone.escrow_account.refresh_from_db()
        earnings = Account.objects.get(owner=contract.freelancer, kind=Account.Kind.EARNINGS)
        assert sum(isinstance(o, LedgerTransaction) for o in outcomes) == 1
        assert sum(getattr(o, "code", None) == "amount_above_escrow" for o in outcomes) == 1
        assert milestone.escrow_balance == Decimal("200.00")
        assert earnings.balance == Decimal("300.00")

    def test_eight_releases_of_100_from_500_release_exactly_500(self, contract):
        milestone = make_milestone(contract, amount="500.00", submitted=True)

        def release():
            return services.milestone_release(
                milestone=milestone, actor=contract.client, amount="100.00", now=timezone.now()
            )

        outcomes = run_at_once(*[release] * 8)

        milestone.refresh_from_db()
        milestone.escrow_account.refresh_from_db()
        earnings = Account.objects.get(owner=contract.freelancer, kind=Account.Kind.EARNINGS)
        assert sum(isinstance(o, LedgerTransaction) for o in outcomes) == 5
        assert all(isinstance(o, (LedgerTransaction, DomainError)) for o in outcomes)
        assert milestone.status == Milestone.Status.RELEASED
        assert milestone.escrow_balance == Decimal("0.00")
        assert earnings.balance == Decimal("500.00")

    def test_two_full_releases_move_the_money_once(self, contract):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        def release_all():
            return services.milestone_release(
                milestone=milestone, actor=contract.client, now=timezone.now()
            )

        outcomes = run_at_once(release_all, release_all)

        earnings = Account.objects.get(owner=contract.freelancer, kind=Account.Kind.EARNINGS)
        assert sum(isinstance(o, LedgerTransaction) for o in outcomes) == 1
        assert sum(getattr(o, "code", None) == "illegal_transition" for o in outcomes) == 1
        assert earnings.balance == Decimal("500.00")
        assert LedgerTransaction.objects.filter(kind="RELEASE").count() == 1

    def test_two_fundings_of_the_same_milestone_fund_it_once(self, contract):
        milestone = make_milestone(contract, amount="500.00")

        def fund():
            return services.milestone_fund(
                milestone=milestone, actor=contract.client, now=timezone.now()
            )

        outcomes = run_at_once(fund, fund)

        milestone.escrow_account.refresh_from_db()
        assert sum(isinstance(o, LedgerTransaction) for o in outcomes) == 1
        assert milestone.escrow_balance == Decimal("500.00")


@pytest.mark.django_db(transaction=True)
class TestACommittedTransactionIsFinal:
    def test_an_entry_cannot_be_added_to_it_later(self, contract):
        milestone = make_milestone(contract, funded=True)
        committed = milestone.ledger_transactions.get()

        with (
            pytest.raises(IntegrityError, match="same database transaction"),
            transaction.atomic(),
        ):
            Entry.objects.bulk_create(
                [
                    Entry(transaction=committed, account=milestone.escrow_account, amount=1),
                    Entry(transaction=committed, account=milestone.escrow_account, amount=-1),
                ]
            )

        assert committed.entries.count() == 2
