"""The REST API of contracts, milestones and balances, driven as an integrator would."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import Contract, Milestone, Submission
from tests import kit
from tests.kit import (
    ContractFactory,
    UserFactory,
    api_as,
    assert_error,
    ledger_rows,
    make_milestone,
)

pytestmark = pytest.mark.django_db

DELIVERED = b"%PDF-1.4 the delivered work"


def pdf(name: str = "report.pdf") -> SimpleUploadedFile:
    # The delivered work's bytes, whose size a test reads back.
    return kit.pdf(name, DELIVERED)


class TestBalances:
    def test_lists_each_partys_accounts_after_funding_and_a_partial_release(
        self, contract, as_client, as_freelancer
    ):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        as_client.post(f"/api/v1/milestones/{milestone.pk}/release/", {"amount": "200.00"})

        client_view = as_client.get("/api/v1/balances/")
        freelancer_view = as_freelancer.get("/api/v1/balances/")

        assert client_view.status_code == 200
        assert client_view.json() == {
            "count": 1,
            "next": None,
            "previous": None,
            "results": [{"account": "FUNDING", "currency": "USD", "balance": "-500.00"}],
        }
        assert freelancer_view.json()["results"] == [
            {"account": "EARNINGS", "currency": "USD", "balance": "200.00"}
        ]

    def test_is_an_empty_page_before_any_money_moved(self, as_client):
        response = as_client.get("/api/v1/balances/")

        assert response.status_code == 200
        assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}

    def test_shows_yen_without_decimal_places(self, client_user, freelancer, as_client):
        contract = ContractFactory(client=client_user, freelancer=freelancer, currency="JPY")
        make_milestone(contract, amount="30000", funded=True)

        response = as_client.get("/api/v1/balances/")

        assert response.json()["results"] == [
            {"account": "FUNDING", "currency": "JPY", "balance": "-30000"}
        ]


class TestContractCreate:
    def test_opens_a_contract_with_the_caller_as_its_client(self, client_user, freelancer):
        response = api_as(client_user).post(
            "/api/v1/contracts/",
            {"freelancer": "frank-freelancer", "title": "Logo design", "currency": "eur"},
        )

        assert response.status_code == 201, response.content
        body = response.json()
        contract = Contract.objects.get()
        assert body["id"] == contract.pk
        assert body["title"] == "Logo design"
        assert body["currency"] == "EUR"
        assert body["status"] == "ACTIVE"
        assert body["client"] == "carol-client"
        assert body["freelancer"] == "frank-freelancer"
        assert body["role"] == "client"
        assert body["created_at"].endswith("Z")
        assert body["ended_at"] is None
        assert body["milestones"] == []

    def test_refuses_a_freelancer_who_does_not_exist(self, as_client):
        response = as_client.post(
            "/api/v1/contracts/", {"freelancer": "nobody", "title": "Logo", "currency": "USD"}
        )

        error = assert_error(response, 400, "invalid_freelancer")
        assert "freelancer" in error["fields"]
        assert not Contract.objects.exists()

    def test_refuses_hiring_yourself(self, as_client):
        response = as_client.post(
            "/api/v1/contracts/",
            {"freelancer": "carol-client", "title": "Logo", "currency": "USD"},
        )

        assert_error(response, 400, "invalid_freelancer")
        assert not Contract.objects.exists()

    def test_refuses_an_unsupported_currency(self, freelancer, as_client):
        response = as_client.post(
            "/api/v1/contracts/",
            {"freelancer": "frank-freelancer", "title": "Logo", "currency": "XYZ"},
        )

        error = assert_error(response, 400, "invalid_currency")
        assert "currency" in error["fields"]

    def test_names_every_missing_field(self, as_client):
        response = as_client.post("/api/v1/contracts/", {})

        error = assert_error(response, 400, "required")
        assert set(error["fields"]) == {"freelancer", "title", "currency"}


class TestContractList:
    def test_lists_the_contracts_of_both_roles_newest_first_with_the_viewers_role(
        self, client_user, freelancer, stranger
    ):
        hired = ContractFactory(client=client_user, freelancer=freelancer, title="Hired")
        working = ContractFactory(client=stranger, freelancer=client_user, title="Working")
        ContractFactory(client=stranger, freelancer=freelancer, title="Not mine")

        response = api_as(client_user).get("/api/v1/contracts/")

        assert response.status_code == 200
        body = response.json()
        assert body["count"] == 2
        assert [(c["id"], c["role"]) for c in body["results"]] == [
            (working.pk, "freelancer"),
            (hired.pk, "client"),
        ]

    def test_pages_with_page_size(self, client_user, freelancer):
        for _ in range(3):
            ContractFactory(client=client_user, freelancer=freelancer)

        response = api_as(client_user).get("/api/v1/contracts/?page_size=2")

        body = response.json()
        assert body["count"] == 3
        assert len(body["results"]) == 2
        assert body["next"].endswith("page=2&page_size=2")

    def test_uses_as_many_queries_for_20_contracts_as_for_2(
        self, client_user, django_assert_max_num_queries
    ):
        def add_contracts(count: int) -> None:
            for _ in range(count):
                contract = ContractFactory(client=client_user, freelancer=UserFactory())
                make_milestone(contract, submitted=True)
                make_milestone(contract, funded=True)

        api = api_as(client_user)
        add_contracts(2)
        with CaptureQueriesContext(connection) as two:
            assert len(api.get("/api/v1/contracts/").json()["results"]) == 2
        add_contracts(18)

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = api.get("/api/v1/contracts/")

        assert len(response.json()["results"]) == 20


class TestContractDetail:
    def test_shows_the_milestones_with_amounts_as_strings(self, contract, as_freelancer):
        milestone = make_milestone(contract, amount="1250.50", funded=True)

        response = as_freelancer.get(f"/api/v1/contracts/{contract.pk}/")

        assert response.status_code == 200
        body = response.json()
        assert body["role"] == "freelancer"
        [shown] = body["milestones"]
        assert shown["id"] == milestone.pk
        assert shown["amount"] == "1250.50"
        assert shown["escrow_balance"] == "1250.50"
        assert shown["currency"] == "USD"
        assert shown["status"] == "FUNDED"

    def test_shows_times_in_utc_whatever_the_viewers_time_zone(self, contract, client_user):
        client_user.time_zone = "Asia/Tokyo"
        client_user.save(update_fields=["time_zone"])
        make_milestone(contract, funded=True)
        api = APIClient()
        api.force_login(client_user)

        body = api.get(f"/api/v1/contracts/{contract.pk}/").json()

        assert body["created_at"].endswith("Z")
        assert body["milestones"][0]["funded_at"].endswith("Z")
        assert "+09:00" not in str(body)

    def test_is_not_found_for_someone_who_is_not_a_party(self, contract, as_stranger):
        response = as_stranger.get(f"/api/v1/contracts/{contract.pk}/")

        assert_error(response, 404, "not_found")

    def test_is_not_found_for_a_contract_that_does_not_exist(self, as_client):
        assert_error(as_client.get("/api/v1/contracts/999999/"), 404, "not_found")


class TestMilestoneCreate:
    def test_adds_a_milestone_awaiting_funding(self, contract, as_client):
        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/milestones/",
            {
                "title": "Wireframes",
                "description": "Five pages",
                "amount": "250.00",
                "due_date": "2026-11-30",
                "currency": "USD",
            },
        )

        assert response.status_code == 201, response.content
        body = response.json()
        milestone = Milestone.objects.get()
        assert body == {
            "id": milestone.pk,
            "contract": contract.pk,
            "title": "Wireframes",
            "description": "Five pages",
            "amount": "250.00",
            "currency": "USD",
            "escrow_balance": "0.00",
            "status": "PENDING",
            "deadline": None,
            "due_date": "2026-11-30",
            "created_at": body["created_at"],
            "funded_at": None,
            "submitted_at": None,
            "released_at": None,
            "closed_at": None,
            "submissions": [],
        }

    def test_takes_whole_yen(self, client_user, freelancer, as_client):
        contract = ContractFactory(client=client_user, freelancer=freelancer, currency="JPY")

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/milestones/", {"title": "Logo", "amount": "250"}
        )

        assert response.status_code == 201
        assert response.json()["amount"] == "250"

    @pytest.mark.parametrize("amount", ["0", "-1", "1.001", "abc", "1e3", 12.5, 250, None, ""])
    def test_refuses_an_amount_that_is_not_a_positive_decimal_string(
        self, contract, as_client, amount
    ):
        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/milestones/",
            {"title": "Wireframes", "amount": amount},
        )

        error = assert_error(response, 400, "invalid_amount" if amount is not None else "null")
        assert list(error["fields"]) == ["amount"]
        assert not Milestone.objects.exists()

    def test_refuses_another_currency_than_the_contracts(self, contract, as_client):
        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/milestones/",
            {"title": "Wireframes", "amount": "250.00", "currency": "EUR"},
        )

        error = assert_error(response, 400, "currency_mismatch")
        assert "currency" in error["fields"]
        assert not Milestone.objects.exists()

    def test_is_forbidden_to_the_freelancer(self, contract, as_freelancer):
        response = as_freelancer.post(
            f"/api/v1/contracts/{contract.pk}/milestones/",
            {"title": "Wireframes", "amount": "250.00"},
        )

        assert_error(response, 403, "not_the_client")
        assert not Milestone.objects.exists()


class TestMilestoneFlow:
    def test_client_funds_freelancer_submits_and_client_releases_in_two_payments(
        self, client_user, freelancer
    ):
        as_client, as_freelancer = api_as(client_user), api_as(freelancer)

        contract = as_client.post(
            "/api/v1/contracts/",
            {"freelancer": "frank-freelancer", "title": "Website", "currency": "USD"},
        ).json()
        milestone = as_client.post(
            f"/api/v1/contracts/{contract['id']}/milestones/",
            {"title": "Design", "amount": "500.00"},
        ).json()
        url = f"/api/v1/milestones/{milestone['id']}"
        funded = as_client.post(f"{url}/fund/")
        submitted = as_freelancer.post(f"{url}/submit/", {"message": "Done, see the link."})
        part = as_client.post(f"{url}/release/", {"amount": "200.00"})
        rest = as_client.post(f"{url}/release/")

        assert funded.status_code == 200, funded.content
        assert funded.json()["status"] == "FUNDED"
        assert funded.json()["escrow_balance"] == "500.00"
        assert funded.json()["funded_at"].endswith("Z")
        assert submitted.status_code == 200, submitted.content
        assert submitted.json()["status"] == "SUBMITTED"
        [submission] = submitted.json()["submissions"]
        assert submission["submitted_by"] == "frank-freelancer"
        assert submission["message"] == "Done, see the link."
        assert submission["files"] == []
        assert submitted.json()["deadline"] == {
            "kind": "auto_release",
            "due_at": submitted.json()["deadline"]["due_at"],
            "party": "client",
        }
        assert submitted.json()["deadline"]["due_at"].endswith("Z")
        assert funded.json()["deadline"] is None
        assert part.status_code == 200, part.content
        assert part.json()["status"] == "SUBMITTED"
        assert part.json()["escrow_balance"] == "300.00"
        assert rest.status_code == 200, rest.content
        assert rest.json()["status"] == "RELEASED"
        assert rest.json()["escrow_balance"] == "0.00"
        assert rest.json()["released_at"].endswith("Z")
        assert rest.json()["deadline"] is None
        assert as_freelancer.get("/api/v1/balances/").json()["results"] == [
            {"account": "EARNINGS", "currency": "USD", "balance": "500.00"}
        ]
        assert as_client.get("/api/v1/balances/").json()["results"] == [
            {"account": "FUNDING", "currency": "USD", "balance": "-500.00"}
        ]
        assert ledger_rows() == 3
        detail = as_freelancer.get(f"{url}/").json()
        assert detail == rest.json()


class TestMilestoneFund:
    def test_refuses_to_fund_twice(self, contract, as_client):
        milestone = make_milestone(contract, funded=True)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/fund/")

        assert_error(response, 409, "illegal_transition")
        assert ledger_rows() == 1

    def test_is_forbidden_to_the_freelancer(self, contract, as_freelancer):
        milestone = make_milestone(contract)

        response = as_freelancer.post(f"/api/v1/milestones/{milestone.pk}/fund/")

        assert_error(response, 403, "not_the_client")
        assert ledger_rows() == 0

    def test_refuses_another_currency_than_the_contracts(self, contract, as_client):
        milestone = make_milestone(contract)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/fund/", {"currency": "EUR"})

        assert_error(response, 400, "currency_mismatch")
        assert ledger_rows() == 0

    def test_is_forbidden_to_a_suspended_client(self, contract, client_user, as_client):
        milestone = make_milestone(contract)
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/fund/")

        assert_error(response, 403, "account_suspended")
        assert ledger_rows() == 0

    def test_accepts_the_contracts_own_currency(self, contract, as_client):
        milestone = make_milestone(contract)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/fund/", {"currency": "USD"})

        assert response.status_code == 200
        assert ledger_rows() == 1


class TestMilestoneSubmit:
    def test_takes_files_as_multipart(self, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)

        response = as_freelancer.post(
            f"/api/v1/milestones/{milestone.pk}/submit/",
            {"message": "Attached.", "files": [pdf("report.pdf"), pdf("annex.pdf")]},
            format="multipart",
        )

        assert response.status_code == 200, response.content
        [submission] = response.json()["submissions"]
        assert [f["name"] for f in submission["files"]] == ["report.pdf", "annex.pdf"]
        assert submission["files"][0]["content_type"] == "application/pdf"
        assert submission["files"][0]["size"] == len(b"%PDF-1.4 the delivered work")

    def test_starts_the_clients_auto_release_deadline(self, settings, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)
        submitted_at = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)

        with time_machine.travel(submitted_at, tick=False):
            response = as_freelancer.post(
                f"/api/v1/milestones/{milestone.pk}/submit/", {"message": "Done."}
            )

        due_at = submitted_at + settings.AUTO_RELEASE_PERIOD
        assert response.json()["submitted_at"] == "2026-11-16T09:00:00Z"
        assert response.json()["deadline"] == {
            "kind": "auto_release",
            "due_at": due_at.isoformat().replace("+00:00", "Z"),
            "party": "client",
        }

    def test_refuses_a_file_disguised_as_a_pdf(self, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)
        fake = SimpleUploadedFile("report.pdf", b"\x00\x01MZ", content_type="application/pdf")

        response = as_freelancer.post(
            f"/api/v1/milestones/{milestone.pk}/submit/",
            {"message": "Attached.", "files": [fake]},
            format="multipart",
        )

        error = assert_error(response, 400, "invalid_file")
        assert "files" in error["fields"]
        assert not Submission.objects.exists()

    def test_is_forbidden_to_the_client(self, contract, as_client):
        milestone = make_milestone(contract, funded=True)

        response = as_client.post(
            f"/api/v1/milestones/{milestone.pk}/submit/", {"message": "Done."}
        )

        assert_error(response, 403, "not_the_freelancer")
        assert not Submission.objects.exists()

    def test_refuses_work_on_a_milestone_not_yet_funded(self, contract, as_freelancer):
        milestone = make_milestone(contract)

        response = as_freelancer.post(
            f"/api/v1/milestones/{milestone.pk}/submit/", {"message": "Done."}
        )

        assert_error(response, 409, "illegal_transition")

    def test_requires_a_message(self, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)

        response = as_freelancer.post(f"/api/v1/milestones/{milestone.pk}/submit/", {})

        error = assert_error(response, 400, "required")
        assert list(error["fields"]) == ["message"]


class TestMilestoneRelease:
    @pytest.mark.parametrize(
        ("amount", "code"),
        [
            ("0", "invalid_amount"),
            ("-1", "invalid_amount"),
            ("1.001", "invalid_amount"),
            ("abc", "invalid_amount"),
            ("NaN", "invalid_amount"),
            (12.5, "invalid_amount"),
            (100, "invalid_amount"),
            ("", "invalid_amount"),
            ("500.01", "amount_above_escrow"),
        ],
    )
    def test_refuses_a_bad_amount_and_moves_nothing(self, contract, as_client, amount, code):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/release/", {"amount": amount})

        error = assert_error(response, 400, code)
        assert list(error["fields"]) == ["amount"]
        assert ledger_rows() == 1
        milestone.escrow_account.refresh_from_db()
        assert milestone.escrow_balance == Decimal("500.00")

    def test_releases_everything_when_the_amount_is_null(self, contract, as_client):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/release/", {"amount": None})

        assert response.status_code == 200
        assert response.json()["status"] == "RELEASED"

    def test_refuses_another_currency_than_the_contracts(self, contract, as_client):
        milestone = make_milestone(contract, funded=True)

        response = as_client.post(
            f"/api/v1/milestones/{milestone.pk}/release/", {"amount": "10.00", "currency": "GBP"}
        )

        assert_error(response, 400, "currency_mismatch")
        assert ledger_rows() == 1

    def test_is_forbidden_to_the_freelancer(self, contract, as_freelancer):
        milestone = make_milestone(contract, submitted=True)

        response = as_freelancer.post(f"/api/v1/milestones/{milestone.pk}/release/")

        assert_error(response, 403, "not_the_client")
        assert ledger_rows() == 1

    def test_refuses_to_release_a_milestone_not_yet_funded(self, contract, as_client):
        milestone = make_milestone(contract)

        response = as_client.post(f"/api/v1/milestones/{milestone.pk}/release/")

        assert_error(response, 409, "illegal_transition")
        assert ledger_rows() == 0


class TestSomeoneWhoIsNotAParty:
    @pytest.mark.parametrize(
        ("method", "path", "data"),
        [
            ("get", "/api/v1/contracts/{contract}/", None),
            ("post", "/api/v1/contracts/{contract}/milestones/", {"title": "X", "amount": "1.00"}),
            ("get", "/api/v1/milestones/{milestone}/", None),
            ("post", "/api/v1/milestones/{milestone}/fund/", {}),
            ("post", "/api/v1/milestones/{milestone}/submit/", {"message": "Mine now"}),
            ("post", "/api/v1/milestones/{milestone}/release/", {"amount": "1.00"}),
            ("post", "/api/v1/milestones/{milestone}/release/", {"amount": "abc"}),
        ],
    )
    def test_finds_nothing_and_changes_nothing(self, contract, as_stranger, method, path, data):
        funded = make_milestone(contract, funded=True)
        pending = make_milestone(contract)
        target = pending if path.endswith("/fund/") else funded
        url = path.format(contract=contract.pk, milestone=target.pk)

        response = getattr(as_stranger, method)(url, data)

        assert_error(response, 404, "not_found")
        assert ledger_rows() == 1
        assert Milestone.objects.count() == 2
        assert not Submission.objects.exists()
        assert Milestone.objects.get(pk=target.pk).status == target.status

    def test_sees_none_of_their_milestones_in_a_list(self, contract, as_stranger):
        make_milestone(contract, funded=True)

        assert as_stranger.get("/api/v1/contracts/").json()["count"] == 0
        assert as_stranger.get("/api/v1/balances/").json()["count"] == 0
