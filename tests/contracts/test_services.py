from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.services import AccountSuspended
from contracts import services
from contracts.models import (
    Account,
    Contract,
    Entry,
    LedgerTransaction,
    Milestone,
    Submission,
    SubmissionFile,
)
from core.errors import IllegalTransition, InvalidInput
from tests.kit import UserFactory, make_milestone

pytestmark = pytest.mark.django_db


def ledger_rows() -> tuple[int, int]:
    # Entries too, unlike the kit's: a refused action writes neither transactions nor entries.
    return LedgerTransaction.objects.count(), Entry.objects.count()


class TestContractCreate:
    def test_opens_an_active_contract_between_two_users(self, client_user, freelancer):
        contract = services.contract_create(
            client=client_user,
            freelancer=freelancer,
            title="  Logo design ",
            currency="eur",
            now=timezone.now(),
        )

        assert contract.status == Contract.Status.ACTIVE
        assert contract.title == "Logo design"
        assert contract.currency == "EUR"

    def test_rejects_hiring_yourself(self, client_user):
        with pytest.raises(InvalidInput) as error:
            services.contract_create(
                client=client_user,
                freelancer=client_user,
                title="x",
                currency="USD",
                now=timezone.now(),
            )

        assert error.value.fields == {"freelancer": ["Choose another user as the freelancer."]}
        assert Contract.objects.count() == 0

    @pytest.mark.parametrize("currency", ["", "US", "XXX", "usdollar"])
    def test_rejects_an_unknown_currency(self, client_user, freelancer, currency):
        with pytest.raises(InvalidInput) as error:
            services.contract_create(
                client=client_user,
                freelancer=freelancer,
                title="x",
                currency=currency,
                now=timezone.now(),
            )

        assert error.value.code == "invalid_currency"
        assert Contract.objects.count() == 0

    def test_rejects_an_empty_title(self, client_user, freelancer):
        with pytest.raises(InvalidInput):
            services.contract_create(
                client=client_user,
                freelancer=freelancer,
                title="   ",
                currency="USD",
                now=timezone.now(),
            )


class TestMilestoneCreate:
    def test_adds_a_milestone_awaiting_funding_with_an_empty_escrow(self, contract):
        milestone = services.milestone_create(
            contract=contract,
            actor=contract.client,
            title="Wireframes",
            amount="120.50",
            now=timezone.now(),
        )

        assert milestone.status == Milestone.Status.PENDING
        assert milestone.amount == Decimal("120.50")
        assert milestone.escrow_account.kind == Account.Kind.ESCROW
        assert milestone.escrow_account.currency == "USD"
        assert milestone.escrow_balance == 0

    @pytest.mark.parametrize(
        ("amount", "message"),
        [
            ("0", "The amount must be greater than zero."),
            ("0.00", "The amount must be greater than zero."),
            ("-5.00", "The amount cannot be negative."),
            ("10.001", "USD amounts have at most 2 decimal places."),
            ("abc", "Enter an amount such as 250.00."),
            ("1e3", "Enter an amount such as 250.00."),
            ("NaN", "Enter an amount such as 250.00."),
            (12.5, 'Send the amount as a decimal string, for example "250.00".'),
            ("", "Enter an amount such as 250.00."),
        ],
    )
    def test_rejects_a_bad_amount(self, contract, amount, message):
        with pytest.raises(InvalidInput) as error:
            services.milestone_create(
                contract=contract,
                actor=contract.client,
                title="x",
                amount=amount,
                now=timezone.now(),
            )

        assert error.value.code == "invalid_amount"
        assert error.value.fields == {"amount": [message]}
        assert Milestone.objects.count() == 0

    def test_rejects_an_amount_in_another_currency(self, contract):
        with pytest.raises(InvalidInput) as error:
            services.milestone_create(
                contract=contract,
                actor=contract.client,
                title="x",
                amount="10.00",
                currency="EUR",
                now=timezone.now(),
            )

        assert error.value.code == "currency_mismatch"
        assert Milestone.objects.count() == 0

    def test_rejects_the_freelancer_adding_a_milestone(self, contract):
        with pytest.raises(services.NotTheClient):
            services.milestone_create(
                contract=contract,
                actor=contract.freelancer,
                title="x",
                amount="10.00",
                now=timezone.now(),
            )

    def test_a_zero_decimal_currency_takes_whole_amounts_only(self, client_user, freelancer):
        contract = services.contract_create(
            client=client_user,
            freelancer=freelancer,
            title="x",
            currency="JPY",
            now=timezone.now(),
        )

        with pytest.raises(InvalidInput) as error:
            services.milestone_create(
                contract=contract,
                actor=client_user,
                title="x",
                amount="100.50",
                now=timezone.now(),
            )
        milestone = services.milestone_create(
            contract=contract, actor=client_user, title="x", amount="15000", now=timezone.now()
        )

        assert error.value.fields == {"amount": ["JPY amounts have no decimal places."]}
        assert milestone.amount == Decimal("15000")


class TestMilestoneFund:
    def test_moves_the_amount_from_the_clients_funding_source_into_escrow(self, contract):
        milestone = make_milestone(contract, amount="500.00")

        movement = services.milestone_fund(
            milestone=milestone, actor=contract.client, now=timezone.now()
        )

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.FUNDED
        assert milestone.funded_at is not None
        assert movement.kind == LedgerTransaction.Kind.FUNDING
        legs = {e.account.kind: e.amount for e in movement.entries.select_related("account")}
        assert legs == {
            Account.Kind.FUNDING: Decimal("-500.00"),
            Account.Kind.ESCROW: Decimal("500.00"),
        }

    def test_rejects_funding_twice(self, contract):
        milestone = make_milestone(contract, funded=True)
        before = ledger_rows()

        with pytest.raises(IllegalTransition) as error:
            services.milestone_fund(milestone=milestone, actor=contract.client, now=timezone.now())

        assert error.value.message == "This milestone is funded; it cannot become funded."
        assert ledger_rows() == before

    def test_rejects_the_freelancer_funding(self, contract):
        milestone = make_milestone(contract)

        with pytest.raises(services.NotTheClient):
            services.milestone_fund(
                milestone=milestone, actor=contract.freelancer, now=timezone.now()
            )

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.PENDING
        assert ledger_rows() == (0, 0)

    def test_rejects_a_stranger_funding(self, contract, stranger):
        milestone = make_milestone(contract)

        with pytest.raises(services.NotTheClient):
            services.milestone_fund(milestone=milestone, actor=stranger, now=timezone.now())

        assert ledger_rows() == (0, 0)

    def test_rejects_funding_in_another_currency(self, contract):
        milestone = make_milestone(contract)

        with pytest.raises(InvalidInput) as error:
            services.milestone_fund(
                milestone=milestone, actor=contract.client, currency="GBP", now=timezone.now()
            )

        assert error.value.code == "currency_mismatch"
        assert ledger_rows() == (0, 0)

    def test_rejects_a_suspended_client(self, contract):
        milestone = make_milestone(contract)
        contract.client.suspended_at = timezone.now()
        contract.client.save()

        with pytest.raises(AccountSuspended):
            services.milestone_fund(milestone=milestone, actor=contract.client, now=timezone.now())

        assert ledger_rows() == (0, 0)


class TestMilestoneSubmit:
    def test_records_the_work_with_its_files(self, contract):
        milestone = make_milestone(contract, funded=True)
        upload = SimpleUploadedFile("report.pdf", b"%PDF-1.7\n...", content_type="application/pdf")

        submission = services.milestone_submit(
            milestone=milestone,
            actor=contract.freelancer,
            message="Done, see the report.",
            files=[upload],
            now=timezone.now(),
        )

        milestone.refresh_from_db()
        stored = submission.files.get()
        assert milestone.status == Milestone.Status.SUBMITTED
        assert stored.name == "report.pdf"
        assert stored.content_type == "application/pdf"
        assert stored.file.name.startswith("submissions/")
        assert "report" not in stored.file.name
        assert len(stored.sha256) == 64
        with stored.file.open("rb") as handle:
            assert handle.read() == b"%PDF-1.7\n..."

    def test_rejects_the_client_submitting(self, contract):
        milestone = make_milestone(contract, funded=True)

        with pytest.raises(services.NotTheFreelancer):
            services.milestone_submit(
                milestone=milestone, actor=contract.client, message="x", now=timezone.now()
            )

        assert Submission.objects.count() == 0

    def test_rejects_submitting_before_funding(self, contract):
        milestone = make_milestone(contract)

        with pytest.raises(IllegalTransition):
            services.milestone_submit(
                milestone=milestone, actor=contract.freelancer, message="x", now=timezone.now()
            )

        assert Submission.objects.count() == 0

    def test_rejects_an_empty_message(self, contract):
        milestone = make_milestone(contract, funded=True)

        with pytest.raises(InvalidInput) as error:
            services.milestone_submit(
                milestone=milestone, actor=contract.freelancer, message="  ", now=timezone.now()
            )

        assert error.value.fields == {"message": ["A message is required."]}

    def test_rejects_a_file_whose_content_is_not_an_allowed_type_and_stores_nothing(
        self, contract, settings
    ):
        milestone = make_milestone(contract, funded=True)
        disguised = SimpleUploadedFile("invoice.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04")

        with pytest.raises(InvalidInput) as error:
            services.milestone_submit(
                milestone=milestone,
                actor=contract.freelancer,
                message="x",
                files=[disguised],
                now=timezone.now(),
            )

        milestone.refresh_from_db()
        assert error.value.code == "invalid_file"
        assert milestone.status == Milestone.Status.FUNDED
        assert SubmissionFile.objects.count() == 0
        assert not (settings.PRIVATE_MEDIA_ROOT / "submissions").exists()


class TestMilestoneRelease:
    def test_releases_part_and_keeps_the_rest_in_escrow(self, contract):
        milestone = make_milestone(contract, amount="500.00", submitted=True)

        services.milestone_release(
            milestone=milestone, actor=contract.client, amount="199.99", now=timezone.now()
        )

        milestone.refresh_from_db()
        milestone.escrow_account.refresh_from_db()
        assert milestone.status == Milestone.Status.SUBMITTED
        assert milestone.escrow_balance == Decimal("300.01")

    def test_rejects_an_amount_above_the_escrowed_balance(self, contract):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        before = ledger_rows()

        with pytest.raises(InvalidInput) as error:
            services.milestone_release(
                milestone=milestone, actor=contract.client, amount="500.01", now=timezone.now()
            )

        assert error.value.code == "amount_above_escrow"
        assert error.value.fields == {
            "amount": ["Only 500.00 USD is held in escrow for this milestone."]
        }
        assert ledger_rows() == before

    @pytest.mark.parametrize("amount", ["0", "-1.00", "1.234", "ten"])
    def test_rejects_a_bad_amount_and_writes_no_ledger_row(self, contract, amount):
        milestone = make_milestone(contract, funded=True)
        before = ledger_rows()

        with pytest.raises(InvalidInput):
            services.milestone_release(
                milestone=milestone, actor=contract.client, amount=amount, now=timezone.now()
            )

        assert ledger_rows() == before

    def test_rejects_the_freelancer_releasing_to_themselves(self, contract):
        milestone = make_milestone(contract, funded=True)
        before = ledger_rows()

        with pytest.raises(services.NotTheClient):
            services.milestone_release(
                milestone=milestone, actor=contract.freelancer, now=timezone.now()
            )

        assert ledger_rows() == before

    def test_rejects_releasing_an_unfunded_milestone(self, contract):
        milestone = make_milestone(contract)

        with pytest.raises(IllegalTransition):
            services.milestone_release(
                milestone=milestone, actor=contract.client, now=timezone.now()
            )

        assert ledger_rows() == (0, 0)

    def test_rejects_releasing_a_released_milestone(self, contract):
        milestone = make_milestone(contract, funded=True)
        services.milestone_release(milestone=milestone, actor=contract.client, now=timezone.now())
        before = ledger_rows()

        with pytest.raises(IllegalTransition):
            services.milestone_release(
                milestone=milestone, actor=contract.client, amount="1.00", now=timezone.now()
            )

        assert ledger_rows() == before

    def test_rejects_an_amount_in_another_currency(self, contract):
        milestone = make_milestone(contract, funded=True)
        before = ledger_rows()

        with pytest.raises(InvalidInput) as error:
            services.milestone_release(
                milestone=milestone,
                actor=contract.client,
                amount="10.00",
                currency="EUR",
                now=timezone.now(),
            )

        assert error.value.code == "currency_mismatch"
        assert ledger_rows() == before

    def test_a_user_can_be_client_on_one_contract_and_freelancer_on_another(self, contract):
        other_client = UserFactory()
        reverse = services.contract_create(
            client=other_client,
            freelancer=contract.client,
            title="Reverse",
            currency="USD",
            now=timezone.now(),
        )
        milestone = make_milestone(reverse, funded=True)

        services.milestone_submit(
            milestone=milestone, actor=contract.client, message="Delivered", now=timezone.now()
        )

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.SUBMITTED
