"""The REST API of ending a contract, refund requests, disputes, evidence and support cases."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import Contract, LedgerTransaction, Milestone
from core import deadlines
from disputes import services
from disputes.models import Dispute, Evidence, RefundRequest, SupportCase, TimelineEvent
from tests import kit
from tests.kit import (
    ContractFactory,
    UserFactory,
    api_as,
    assert_error,
    balances,
    end_contract,
    file_dispute,
    ledger_rows,
    make_milestone,
)

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 the signed agreement"


@pytest.fixture
def refund_request(contract):
    """The client funded 500.00 and ended the contract paying 200.00: R = 300.00."""
    return end_contract(contract, paid="200.00", amount="500.00")


@pytest.fixture
def draft(refund_request):
    return start_draft(refund_request)


@pytest.fixture
def dispute(refund_request):
    """A submitted dispute of D = 250.00, waiting for the client."""
    return file_dispute(refund_request, amount="250.00")


def start_draft(refund_request, **fields) -> Dispute:
    return services.dispute_start(
        refund_request=refund_request,
        actor=refund_request.contract.freelancer,
        feedback_rating=fields.pop("feedback_rating", 4),
        feedback_comment=fields.pop("feedback_comment", "Polite, but silent about payment."),
        now=timezone.now(),
        **fields,
    )


def pdf(name: str = "agreement.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    # The signed agreement, whose bytes the tests read back.
    return kit.pdf(name, content)


def raw_multipart(filename: str, content: bytes = PDF) -> dict:
    """A multipart body sent as is, so the file name keeps any path parts a client puts in it."""
    boundary = "----evidence-boundary"
    body = (
        (
            f"--{boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def filing(**changes) -> dict:
    body = {
        "feedback": {"rating": 2, "comment": "Stopped answering after the second delivery."},
        "reason": "NON_PAYMENT",
        "description": "Five pages were agreed and all five were delivered on time.",
        "amount": "250.00",
    }
    body.update(changes)
    return body


# --- Stories ------------------------------------------------------------------------------------


class TestTheWholeStory:
    def test_client_ends_freelancer_files_with_evidence_and_client_declines_to_mediation(
        self, contract, as_client, as_freelancer
    ):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        ended = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            {"payments": [{"milestone": milestone.pk, "amount": "200.00"}]},
        )
        [refund] = ended.json()["refund_requests"]
        started = as_freelancer.post(
            f"/api/v1/refund-requests/{refund['id']}/dispute/",
            {"feedback": {"rating": 2, "comment": "Went silent."}},
        )
        dispute_id = started.json()["id"]
        patched = as_freelancer.patch(
            f"/api/v1/disputes/{dispute_id}/",
            {
                "reason": "NON_PAYMENT",
                "description": "All five pages were delivered.",
                "amount": "250.00",
                "feedback": {"comment": "Went silent after the second delivery."},
            },
        )
        uploaded = as_freelancer.post(
            f"/api/v1/disputes/{dispute_id}/evidence/",
            {"file": pdf(), "description": "The signed agreement"},
            format="multipart",
        )
        submitted = as_freelancer.post(f"/api/v1/disputes/{dispute_id}/submit/")
        declined = as_client.post(
            f"/api/v1/disputes/{dispute_id}/decline/", {"reason": "Two pages were missing."}
        )

        assert ended.status_code == 200, ended.content
        assert ended.json()["status"] == "ENDED"
        assert refund["amount"] == "300.00"
        assert refund["deadline"]["kind"] == "refund_request_response"
        assert started.status_code == 201, started.content
        assert started.json()["status"] == "DRAFT"
        assert started.json()["amount"] is None
        assert patched.status_code == 200, patched.content
        assert patched.json()["feedback"] == {
            "rating": 2,
            "comment": "Went silent after the second delivery.",
        }
        assert patched.json()["amount"] == "250.00"
        assert uploaded.status_code == 201, uploaded.content
        assert submitted.status_code == 200, submitted.content
        assert submitted.json()["status"] == "AWAITING_CLIENT"
        assert submitted.json()["deadline"]["kind"] == "client_response"
        assert declined.status_code == 200, declined.content
        body = declined.json()
        assert body["status"] == "IN_MEDIATION"
        assert body["decline_reason"] == "Two pages were missing."
        assert body["deadline"]["party"] == "agent"
        assert body["deadline"]["enforced"] is False
        assert body["feedback"] is None
        assert body["resolution"] is None
        assert body["arbitration"] is None
        assert balances(as_freelancer) == {"EARNINGS": "200.00"}
        assert Milestone.objects.get(pk=milestone.pk).escrow_balance == Decimal("300.00")

    def test_client_accepts_and_the_disputed_amount_goes_to_the_freelancer_the_rest_back(
        self, contract, as_client, as_freelancer, dispute
    ):
        response = as_client.post(f"/api/v1/disputes/{dispute.pk}/accept/")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "CLOSED"
        assert body["outcome"] == "CLIENT_ACCEPTED"
        assert body["to_freelancer"] == "250.00"
        assert body["to_client"] == "50.00"
        assert body["deadline"] is None
        assert body["closed_at"].endswith("Z")
        assert balances(as_freelancer) == {"EARNINGS": "450.00"}
        assert balances(as_client) == {"FUNDING": "-500.00", "REFUNDS": "50.00"}
        assert Milestone.objects.get(pk=dispute.milestone_id).escrow_balance == Decimal("0.00")

    def test_freelancer_accepts_the_refund_and_the_client_gets_it_back(
        self, as_client, as_freelancer, refund_request
    ):
        response = as_freelancer.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "ACCEPTED"
        assert body["deadline"] is None
        assert body["closed_at"].endswith("Z")
        assert balances(as_client) == {"FUNDING": "-500.00", "REFUNDS": "300.00"}
        assert balances(as_freelancer) == {"EARNINGS": "200.00"}


# --- Ending a contract --------------------------------------------------------------------------


class TestContractEnd:
    def test_pays_each_milestone_and_opens_a_refund_request_for_what_is_left(
        self, contract, as_client
    ):
        paid_in_full = make_milestone(contract, amount="100.00", funded=True)
        partly = make_milestone(contract, amount="500.00", submitted=True)

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            {
                "payments": [
                    {"milestone": paid_in_full.pk, "amount": "100.00"},
                    {"milestone": partly.pk, "amount": "125.50"},
                ]
            },
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["contract"] == contract.pk
        assert body["status"] == "ENDED"
        [refund] = body["refund_requests"]
        request = RefundRequest.objects.get()
        assert refund == {
            "id": request.pk,
            "contract": contract.pk,
            "milestone": partly.pk,
            "currency": "USD",
            "escrowed": "500.00",
            "paid": "125.50",
            "amount": "374.50",
            "status": "OPEN",
            "deadline": {
                "kind": "refund_request_response",
                "due_at": request.response_due_at.isoformat().replace("+00:00", "Z"),
                "party": "freelancer",
                "starts_at": request.created_at.isoformat().replace("+00:00", "Z"),
                "enforced": True,
            },
            "created_at": request.created_at.isoformat().replace("+00:00", "Z"),
            "closed_at": None,
            "dispute": None,
        }

    def test_with_no_payments_asks_for_the_whole_escrow_back(self, contract, as_client):
        make_milestone(contract, amount="500.00", funded=True)

        response = as_client.post(f"/api/v1/contracts/{contract.pk}/end/", {"payments": []})

        assert response.status_code == 200, response.content
        assert [r["amount"] for r in response.json()["refund_requests"]] == ["500.00"]

    def test_refuses_a_milestone_paid_twice_and_changes_nothing(self, contract, as_client):
        milestone = make_milestone(contract, amount="500.00", funded=True)

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            {
                "payments": [
                    {"milestone": milestone.pk, "amount": "100.00"},
                    {"milestone": milestone.pk, "amount": "100.00"},
                ]
            },
        )

        error = assert_error(response, 400, "duplicate_milestone")
        assert list(error["fields"]) == ["payments"]
        assert Contract.objects.get().status == "ACTIVE"
        assert ledger_rows() == 1

    @pytest.mark.parametrize(
        ("amount", "code"),
        [
            ("500.01", "amount_above_escrow"),
            ("1.005", "invalid_amount"),
            ("-1", "invalid_amount"),
            (100, "invalid_amount"),
        ],
    )
    def test_names_the_bad_payment_as_sent_and_changes_nothing(
        self, contract, as_client, amount, code
    ):
        first = make_milestone(contract, amount="100.00", funded=True)
        second = make_milestone(contract, amount="500.00", funded=True)

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            {
                "payments": [
                    {"milestone": first.pk, "amount": "100.00"},
                    {"milestone": second.pk, "amount": amount},
                ]
            },
        )

        error = assert_error(response, 400, code)
        assert list(error["fields"]) == ["payments.1.amount"]
        assert Contract.objects.get().status == "ACTIVE"
        assert ledger_rows() == 2
        assert not RefundRequest.objects.exists()

    def test_refuses_a_milestone_of_another_contract(self, contract, client_user, as_client):
        other = ContractFactory(client=client_user, freelancer=UserFactory())
        foreign = make_milestone(other, funded=True)

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            {"payments": [{"milestone": foreign.pk, "amount": "1.00"}]},
        )

        error = assert_error(response, 400, "invalid_milestone")
        assert list(error["fields"]) == ["payments.0.milestone"]

    def test_requires_the_payments(self, contract, as_client):
        response = as_client.post(f"/api/v1/contracts/{contract.pk}/end/", {})

        error = assert_error(response, 400, "required")
        assert list(error["fields"]) == ["payments"]
        assert Contract.objects.get().status == "ACTIVE"

    def test_refuses_malformed_json(self, contract, as_client):
        make_milestone(contract, funded=True)

        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/end/",
            data='{"payments": [',
            content_type="application/json",
        )

        assert_error(response, 400, "malformed_request")
        assert Contract.objects.get().status == "ACTIVE"

    def test_is_forbidden_to_the_freelancer(self, contract, as_freelancer):
        make_milestone(contract, funded=True)

        response = as_freelancer.post(f"/api/v1/contracts/{contract.pk}/end/", {"payments": []})

        assert_error(response, 403, "not_the_client")
        assert Contract.objects.get().status == "ACTIVE"

    def test_refuses_to_end_a_contract_twice(self, contract, as_client):
        make_milestone(contract, funded=True)
        as_client.post(f"/api/v1/contracts/{contract.pk}/end/", {"payments": []})

        response = as_client.post(f"/api/v1/contracts/{contract.pk}/end/", {"payments": []})

        assert_error(response, 409, "illegal_transition")
        assert RefundRequest.objects.count() == 1

    def test_a_replay_with_the_same_idempotency_key_moves_the_money_once(
        self, contract, as_client, as_freelancer
    ):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        url = f"/api/v1/contracts/{contract.pk}/end/"
        body = {"payments": [{"milestone": milestone.pk, "amount": "200.00"}]}
        headers = {"Idempotency-Key": "end-contract-1"}

        first = as_client.post(url, body, headers=headers)
        replay = as_client.post(url, body, headers=headers)

        assert first.status_code == replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert RefundRequest.objects.count() == 1
        assert ledger_rows() == 2
        assert balances(as_freelancer) == {"EARNINGS": "200.00"}


# --- Refund requests ----------------------------------------------------------------------------


class TestRefundRequestList:
    def test_lists_the_requests_of_both_parties_newest_first(
        self, contract, as_client, as_freelancer, refund_request
    ):
        other = ContractFactory(client=contract.client, freelancer=contract.freelancer)
        newer = end_contract(other, paid="0.00", amount="100.00")

        for api in (as_client, as_freelancer):
            body = api.get("/api/v1/refund-requests/").json()

            assert body["count"] == 2
            assert [r["id"] for r in body["results"]] == [newer.pk, refund_request.pk]

    def test_shows_staff_every_request_and_a_stranger_none(
        self, as_staff, as_stranger, refund_request
    ):
        assert as_staff.get("/api/v1/refund-requests/").json()["count"] == 1
        assert as_stranger.get("/api/v1/refund-requests/").json()["count"] == 0

    def test_hides_a_draft_dispute_from_the_client_until_it_is_submitted(
        self, as_client, as_freelancer, refund_request, draft
    ):
        client_view = as_client.get("/api/v1/refund-requests/").json()["results"]
        freelancer_view = as_freelancer.get("/api/v1/refund-requests/").json()["results"]
        services.dispute_update(
            dispute=draft,
            actor=draft.refund_request.contract.freelancer,
            changes={"reason": "QUALITY", "description": "Done.", "amount": "10.00"},
            now=timezone.now(),
        )
        services.dispute_submit(
            dispute=draft, actor=draft.refund_request.contract.freelancer, now=timezone.now()
        )
        after_submit = as_client.get(f"/api/v1/refund-requests/{refund_request.pk}/").json()

        assert client_view[0]["dispute"] is None
        assert freelancer_view[0]["dispute"] == draft.pk
        assert after_submit["dispute"] == draft.pk
        assert after_submit["status"] == "DISPUTED"

    def test_uses_as_many_queries_for_12_requests_as_for_2(
        self, client_user, django_assert_max_num_queries
    ):
        def add_requests(count: int) -> None:
            for _ in range(count):
                contract = ContractFactory(client=client_user, freelancer=UserFactory())
                request = end_contract(contract)
                start_draft(request)

        api = api_as(client_user)
        add_requests(2)
        with CaptureQueriesContext(connection) as two:
            assert len(api.get("/api/v1/refund-requests/").json()["results"]) == 2
        add_requests(10)

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = api.get("/api/v1/refund-requests/")

        assert len(response.json()["results"]) == 12


class TestRefundRequestDetail:
    def test_shows_the_amounts_as_strings_and_the_freelancers_deadline(
        self, as_freelancer, refund_request
    ):
        response = as_freelancer.get(f"/api/v1/refund-requests/{refund_request.pk}/")

        assert response.status_code == 200
        body = response.json()
        assert (body["escrowed"], body["paid"], body["amount"]) == ("500.00", "200.00", "300.00")
        assert body["deadline"]["party"] == "freelancer"
        assert body["deadline"]["due_at"].endswith("Z")

    def test_is_readable_by_staff(self, as_staff, refund_request):
        assert as_staff.get(f"/api/v1/refund-requests/{refund_request.pk}/").status_code == 200


class TestRefundRequestAccept:
    def test_is_forbidden_to_the_client(self, as_client, refund_request):
        response = as_client.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        assert_error(response, 403, "not_the_freelancer")
        assert RefundRequest.objects.get().status == "OPEN"
        assert ledger_rows() == 2

    def test_is_forbidden_to_a_suspended_freelancer(
        self, freelancer, as_freelancer, refund_request
    ):
        freelancer.suspended_at = timezone.now()
        freelancer.save(update_fields=["suspended_at"])

        response = as_freelancer.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        assert_error(response, 403, "account_suspended")
        assert RefundRequest.objects.get().status == "OPEN"

    def test_refuses_a_request_already_answered(self, as_freelancer, refund_request):
        as_freelancer.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        response = as_freelancer.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        assert_error(response, 409, "illegal_transition")
        assert LedgerTransaction.objects.filter(kind="REFUND").count() == 1

    def test_works_until_the_instant_before_the_deadline_and_not_at_it(
        self, as_freelancer, contract
    ):
        first = end_contract(contract)
        second = end_contract(
            ContractFactory(client=contract.client, freelancer=contract.freelancer)
        )

        with time_machine.travel(first.response_due_at - timedelta(microseconds=1), tick=False):
            before = as_freelancer.post(f"/api/v1/refund-requests/{first.pk}/accept/")
        with time_machine.travel(second.response_due_at, tick=False):
            at = as_freelancer.post(f"/api/v1/refund-requests/{second.pk}/accept/")

        assert before.status_code == 200, before.content
        assert_error(at, 409, "deadline_passed")
        # The late answer gets what the deadline gives, even before the sweep: the refund.
        assert RefundRequest.objects.get(pk=second.pk).status == "EXPIRED"

    def test_a_replay_with_the_same_idempotency_key_refunds_once(
        self, as_freelancer, refund_request
    ):
        url = f"/api/v1/refund-requests/{refund_request.pk}/accept/"
        headers = {"Idempotency-Key": "accept-refund"}

        first = as_freelancer.post(url, headers=headers)
        replay = as_freelancer.post(url, headers=headers)

        assert first.status_code == replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert LedgerTransaction.objects.filter(kind="REFUND").count() == 1


# --- Filing a dispute ---------------------------------------------------------------------------


class TestRefundRequestDispute:
    def test_starts_a_draft_with_the_feedback_and_leaves_the_clock_running(
        self, as_freelancer, refund_request
    ):
        response = as_freelancer.post(
            f"/api/v1/refund-requests/{refund_request.pk}/dispute/",
            {"feedback": {"rating": 3, "comment": "Slow to answer."}, "reason": "QUALITY"},
        )

        assert response.status_code == 201, response.content
        body = response.json()
        dispute = Dispute.objects.get()
        assert body["id"] == dispute.pk
        assert body["refund_request"] == refund_request.pk
        assert body["contract"] == refund_request.contract_id
        assert body["milestone"] == refund_request.milestone_id
        assert body["currency"] == "USD"
        assert body["status"] == "DRAFT"
        assert body["feedback"] == {"rating": 3, "comment": "Slow to answer."}
        assert body["reason"] == "QUALITY"
        assert body["amount"] is None
        assert body["outcome"] is None
        assert body["deadline"]["kind"] == "refund_request_response"
        assert body["deadline"]["due_at"] == refund_request.response_due_at.isoformat().replace(
            "+00:00", "Z"
        )
        assert RefundRequest.objects.get().status == "OPEN"

    def test_takes_the_whole_filing_at_once(self, as_freelancer, refund_request):
        response = as_freelancer.post(
            f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing(amount="300.00")
        )

        assert response.status_code == 201, response.content
        assert response.json()["amount"] == "300.00"

    @pytest.mark.parametrize(
        ("changes", "code", "field"),
        [
            ({"feedback": None}, "null", "feedback"),
            ({"feedback": {"rating": 6, "comment": "x"}}, "max_value", "feedback.rating"),
            ({"feedback": {"rating": 3, "comment": ""}}, "blank", "feedback.comment"),
            ({"reason": "REVENGE"}, "invalid_choice", "reason"),
            ({"amount": "0"}, "invalid_amount", "amount"),
            ({"amount": "300.01"}, "invalid_amount", "amount"),
            ({"amount": "10.123"}, "invalid_amount", "amount"),
            ({"amount": 250}, "invalid_amount", "amount"),
        ],
    )
    def test_refuses_a_bad_filing_and_stores_nothing(
        self, as_freelancer, refund_request, changes, code, field
    ):
        response = as_freelancer.post(
            f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing(**changes)
        )

        error = assert_error(response, 400, code)
        assert list(error["fields"]) == [field]
        assert not Dispute.objects.exists()

    def test_refuses_a_second_dispute(self, as_freelancer, refund_request, draft):
        response = as_freelancer.post(
            f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing()
        )

        assert_error(response, 409, "dispute_exists")
        assert Dispute.objects.count() == 1

    def test_is_forbidden_to_the_client(self, as_client, refund_request):
        response = as_client.post(f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing())

        assert_error(response, 403, "not_the_freelancer")
        assert not Dispute.objects.exists()

    def test_refuses_a_dispute_once_the_deadline_passed(self, as_freelancer, refund_request):
        with time_machine.travel(refund_request.response_due_at, tick=False):
            response = as_freelancer.post(
                f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing()
            )

        assert_error(response, 409, "deadline_passed")
        assert not Dispute.objects.exists()

    def test_refuses_a_request_already_refunded(self, as_freelancer, refund_request):
        as_freelancer.post(f"/api/v1/refund-requests/{refund_request.pk}/accept/")

        response = as_freelancer.post(
            f"/api/v1/refund-requests/{refund_request.pk}/dispute/", filing()
        )

        assert_error(response, 409, "illegal_transition")
        assert not Dispute.objects.exists()


# --- Disputes -----------------------------------------------------------------------------------


class TestDisputeDetail:
    def test_holds_the_feedback_back_from_the_client_while_the_dispute_is_open(
        self, as_client, as_freelancer, as_staff, dispute
    ):
        url = f"/api/v1/disputes/{dispute.pk}/"

        open_for_client = as_client.get(url).json()
        open_for_freelancer = as_freelancer.get(url).json()
        open_for_staff = as_staff.get(url).json()
        as_client.post(f"/api/v1/disputes/{dispute.pk}/accept/")
        closed_for_client = as_client.get(url).json()

        feedback = {"rating": 2, "comment": "Stopped answering after the second delivery."}
        assert open_for_client["feedback"] is None
        assert open_for_freelancer["feedback"] == feedback
        assert open_for_staff["feedback"] == feedback
        assert closed_for_client["feedback"] == feedback

    def test_shows_the_clients_deadline_and_the_placeholders_of_later_stages(
        self, as_client, dispute
    ):
        body = as_client.get(f"/api/v1/disputes/{dispute.pk}/").json()

        assert body["status"] == "AWAITING_CLIENT"
        assert body["amount"] == "250.00"
        assert body["reason"] == "NON_PAYMENT"
        assert body["deadline"] == {
            "kind": "client_response",
            "due_at": dispute.response_due_at.isoformat().replace("+00:00", "Z"),
            "party": "client",
            "starts_at": dispute.submitted_at.isoformat().replace("+00:00", "Z"),
            "enforced": True,
        }
        assert body["to_freelancer"] is None
        assert body["to_client"] is None
        assert body["resolution"] is None
        assert body["arbitration"] is None
        assert body["submitted_at"].endswith("Z")
        assert set(body) >= {
            "id", "refund_request", "contract", "milestone", "currency", "amount", "status",
            "outcome", "reason", "description", "feedback", "deadline", "submitted_at",
            "declined_at", "decline_reason", "closed_at", "to_freelancer", "to_client",
            "resolution", "arbitration", "created_at",
        }  # fmt: skip

    def test_is_not_found_for_the_client_while_it_is_a_draft(self, as_client, draft):
        assert_error(as_client.get(f"/api/v1/disputes/{draft.pk}/"), 404, "not_found")


class TestDisputeList:
    def test_lists_the_freelancers_drafts_but_not_to_the_client(
        self, as_client, as_freelancer, as_staff, draft
    ):
        assert as_freelancer.get("/api/v1/disputes/").json()["count"] == 1
        assert as_client.get("/api/v1/disputes/").json()["count"] == 0
        assert as_staff.get("/api/v1/disputes/").json()["count"] == 1

    def test_uses_as_many_queries_for_12_disputes_as_for_2(
        self, client_user, freelancer, django_assert_max_num_queries
    ):
        def add_disputes(count: int) -> None:
            for _ in range(count):
                contract = ContractFactory(client=client_user, freelancer=freelancer)
                file_dispute(end_contract(contract))

        api = api_as(client_user)
        add_disputes(2)
        with CaptureQueriesContext(connection) as two:
            assert len(api.get("/api/v1/disputes/").json()["results"]) == 2
        add_disputes(10)

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = api.get("/api/v1/disputes/")

        assert len(response.json()["results"]) == 12


class TestDisputeUpdate:
    def test_changes_only_what_is_sent(self, as_freelancer, draft):
        response = as_freelancer.patch(
            f"/api/v1/disputes/{draft.pk}/", {"feedback": {"rating": 1}, "amount": "120.50"}
        )

        assert response.status_code == 200, response.content
        body = response.json()
        assert body["feedback"] == {"rating": 1, "comment": "Polite, but silent about payment."}
        assert body["amount"] == "120.50"
        assert body["status"] == "DRAFT"

    def test_clears_the_amount_with_null(self, as_freelancer, refund_request):
        draft = start_draft(refund_request, amount="100.00")

        response = as_freelancer.patch(f"/api/v1/disputes/{draft.pk}/", {"amount": None})

        assert response.json()["amount"] is None

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"amount": "0"}, "invalid_amount", "amount"),
            ({"amount": "0.00"}, "invalid_amount", "amount"),
            ({"amount": "300.01"}, "invalid_amount", "amount"),
            ({"amount": "10.123"}, "invalid_amount", "amount"),
            ({"amount": 12.5}, "invalid_amount", "amount"),
            ({"feedback": {"rating": 0}}, "min_value", "feedback.rating"),
            ({"feedback": {"comment": "   "}}, "blank", "feedback.comment"),
            ({"status": "CLOSED"}, "unknown_field", "status"),
        ],
    )
    def test_refuses_bad_input_and_changes_nothing(
        self, as_freelancer, refund_request, body, code, field
    ):
        draft = start_draft(refund_request, amount="100.00")

        response = as_freelancer.patch(f"/api/v1/disputes/{draft.pk}/", body)

        error = assert_error(response, 400, code)
        assert list(error["fields"]) == [field]
        draft.refresh_from_db()
        assert (draft.amount, draft.feedback_rating, draft.status) == (
            Decimal("100.00"),
            4,
            "DRAFT",
        )

    def test_names_a_feedback_field_the_service_refuses_as_it_was_sent(self, as_freelancer, draft):
        response = as_freelancer.patch(
            f"/api/v1/disputes/{draft.pk}/", {"feedback": {"comment": "x" * 5001}}
        )

        error = assert_error(response, 400, "invalid")
        assert list(error["fields"]) == ["feedback.comment"]

    def test_refuses_malformed_json(self, as_freelancer, draft):
        response = as_freelancer.patch(
            f"/api/v1/disputes/{draft.pk}/", data="{not json", content_type="application/json"
        )

        assert_error(response, 400, "malformed_request")

    def test_is_locked_once_submitted(self, as_freelancer, dispute):
        response = as_freelancer.patch(f"/api/v1/disputes/{dispute.pk}/", {"amount": "1.00"})

        assert_error(response, 409, "filing_locked")
        dispute.refresh_from_db()
        assert dispute.amount == Decimal("250.00")

    def test_is_forbidden_to_the_client(self, as_client, dispute):
        response = as_client.patch(f"/api/v1/disputes/{dispute.pk}/", {"amount": "1.00"})

        assert_error(response, 403, "not_the_freelancer")

    def test_refuses_changes_once_the_refund_requests_deadline_passed(
        self, as_freelancer, refund_request, draft
    ):
        with time_machine.travel(refund_request.response_due_at, tick=False):
            response = as_freelancer.patch(f"/api/v1/disputes/{draft.pk}/", {"amount": "1.00"})

        assert_error(response, 409, "deadline_passed")


class TestDisputeSubmit:
    def test_names_what_the_filing_still_lacks(self, as_freelancer, draft):
        response = as_freelancer.post(f"/api/v1/disputes/{draft.pk}/submit/")

        error = assert_error(response, 400, "incomplete")
        assert set(error["fields"]) == {"reason", "description", "amount"}
        assert Dispute.objects.get().status == "DRAFT"

    def test_stops_the_refund_clock_and_starts_the_clients(self, as_freelancer, refund_request):
        draft = start_draft(
            refund_request, reason="OTHER", description="All delivered.", amount="300.00"
        )

        response = as_freelancer.post(f"/api/v1/disputes/{draft.pk}/submit/")

        assert response.status_code == 200, response.content
        assert response.json()["deadline"]["kind"] == "client_response"
        assert RefundRequest.objects.get().status == "DISPUTED"

    def test_refuses_a_second_submit(self, as_freelancer, dispute):
        response = as_freelancer.post(f"/api/v1/disputes/{dispute.pk}/submit/")

        assert_error(response, 409, "filing_locked")

    def test_refuses_to_submit_once_the_refund_requests_deadline_passed(
        self, as_freelancer, refund_request
    ):
        draft = start_draft(
            refund_request, reason="OTHER", description="All delivered.", amount="300.00"
        )

        with time_machine.travel(refund_request.response_due_at, tick=False):
            response = as_freelancer.post(f"/api/v1/disputes/{draft.pk}/submit/")

        assert_error(response, 409, "deadline_passed")
        # The refund request's deadline applied first: refunded, and the draft lapsed with it.
        assert Dispute.objects.get().status == "LAPSED"
        assert RefundRequest.objects.get().status == "EXPIRED"


class TestDisputeAccept:
    def test_a_replay_with_the_same_idempotency_key_moves_the_money_once(
        self, as_client, as_freelancer, dispute
    ):
        url = f"/api/v1/disputes/{dispute.pk}/accept/"
        headers = {"Idempotency-Key": "accept-dispute-7"}
        before = ledger_rows()

        first = as_client.post(url, headers=headers)
        after_first = ledger_rows()
        replay = as_client.post(url, headers=headers)

        assert first.status_code == replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert after_first > before
        assert ledger_rows() == after_first
        assert balances(as_freelancer) == {"EARNINGS": "450.00"}

    def test_is_forbidden_to_the_freelancer(self, as_freelancer, dispute):
        response = as_freelancer.post(f"/api/v1/disputes/{dispute.pk}/accept/")

        assert_error(response, 403, "not_the_client")
        assert Dispute.objects.get().status == "AWAITING_CLIENT"

    def test_refuses_an_answer_at_the_deadline(self, as_client, dispute):
        rows = ledger_rows()

        with time_machine.travel(dispute.response_due_at, tick=False):
            response = as_client.post(f"/api/v1/disputes/{dispute.pk}/accept/")

        assert_error(response, 409, "deadline_passed")
        # The client's silence decided first: the one settlement the deadline makes.
        assert ledger_rows() == rows + 1
        assert Dispute.objects.get().outcome == "CLIENT_SILENT"

    def test_refuses_a_dispute_already_in_mediation(self, as_client, dispute):
        as_client.post(f"/api/v1/disputes/{dispute.pk}/decline/", {"reason": "No."})
        rows = ledger_rows()

        response = as_client.post(f"/api/v1/disputes/{dispute.pk}/accept/")

        assert_error(response, 409, "illegal_transition")
        assert ledger_rows() == rows


class TestDisputeDecline:
    def test_requires_a_reason(self, as_client, dispute):
        response = as_client.post(f"/api/v1/disputes/{dispute.pk}/decline/", {"reason": "  "})

        error = assert_error(response, 400, "invalid")
        assert list(error["fields"]) == ["reason"]
        assert Dispute.objects.get().status == "AWAITING_CLIENT"

    def test_is_forbidden_to_the_freelancer(self, as_freelancer, dispute):
        response = as_freelancer.post(f"/api/v1/disputes/{dispute.pk}/decline/", {"reason": "No."})

        assert_error(response, 403, "not_the_client")

    def test_refuses_a_decline_at_the_deadline(self, as_client, dispute):
        with time_machine.travel(dispute.response_due_at, tick=False):
            response = as_client.post(f"/api/v1/disputes/{dispute.pk}/decline/", {"reason": "No."})

        assert_error(response, 409, "deadline_passed")
        # The deadline decided first: the disputed amount went to the freelancer.
        assert Dispute.objects.get().status == "CLOSED"
        assert Dispute.objects.get().outcome == "CLIENT_SILENT"


# --- Evidence -----------------------------------------------------------------------------------


class TestEvidenceUpload:
    def test_stores_the_file_and_describes_it(self, as_freelancer, draft):
        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/",
            {"file": pdf(), "description": "The signed agreement"},
            format="multipart",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        evidence = Evidence.objects.get()
        assert body == {
            "id": evidence.pk,
            "name": "agreement.pdf",
            "size": len(PDF),
            "sha256": evidence.sha256,
            "content_type": "application/pdf",
            "description": "The signed agreement",
            "uploaded_by": "frank-freelancer",
            "uploaded_at": evidence.uploaded_at.isoformat().replace("+00:00", "Z"),
            "download_url": f"http://testserver/api/v1/evidence/{evidence.pk}/download/",
            "download_name": f"evidence-{evidence.pk}.pdf",
        }

    def test_lets_the_client_answer_with_evidence_while_the_dispute_awaits_them(
        self, as_client, dispute
    ):
        response = as_client.post(
            f"/api/v1/disputes/{dispute.pk}/evidence/", {"file": pdf()}, format="multipart"
        )

        assert response.status_code == 201, response.content
        assert response.json()["uploaded_by"] == "carol-client"

    @pytest.mark.parametrize(
        "filename", ["../../etc/evil.pdf", "a/b.pdf", "..\\..\\evil.pdf", "C:\\Users\\x\\b.pdf"]
    )
    def test_refuses_a_file_sent_with_path_parts_and_stores_nothing(
        self, as_freelancer, draft, filename, settings
    ):
        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", **raw_multipart(filename)
        )

        error = assert_error(response, 400, "invalid_file")
        assert error["fields"] == {
            "file": ["File names may not contain folders: send the plain file name."]
        }
        assert not Evidence.objects.exists()
        assert not (settings.PRIVATE_MEDIA_ROOT / "evidence").exists()

    def test_refuses_a_file_whose_name_is_only_a_path(self, as_freelancer, draft):
        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", **raw_multipart("..")
        )

        error = assert_error(response, 400, "invalid_file")
        assert list(error["fields"]) == ["file"]
        assert not Evidence.objects.exists()

    def test_refuses_a_file_disguised_as_a_pdf(self, as_freelancer, draft):
        fake = pdf("x.pdf", content=b"MZ\x90\x00\x03\x00\x00\x00\x04\x00this program")

        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", {"file": fake}, format="multipart"
        )

        error = assert_error(response, 400, "invalid_file")
        assert list(error["fields"]) == ["file"]
        assert not Evidence.objects.exists()

    def test_refuses_a_file_over_the_size_limit(self, settings, as_freelancer, draft, tmp_path):
        settings.UPLOAD_MAX_BYTES = 16

        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", {"file": pdf()}, format="multipart"
        )

        error = assert_error(response, 400, "invalid_file")
        assert "at most" in error["fields"]["file"][0]
        assert not Evidence.objects.exists()
        assert not list((tmp_path / "private").rglob("*.pdf"))

    def test_requires_a_file(self, as_freelancer, draft):
        response = as_freelancer.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", {"description": "x"}, format="multipart"
        )

        assert_error(response, 400, "required")

    def test_takes_multipart_only(self, as_freelancer, draft):
        response = as_freelancer.post(f"/api/v1/disputes/{draft.pk}/evidence/", {"file": "x"})

        assert_error(response, 415, "unsupported_media_type")

    def test_refuses_the_freelancers_files_once_the_filing_is_submitted(
        self, as_freelancer, dispute
    ):
        response = as_freelancer.post(
            f"/api/v1/disputes/{dispute.pk}/evidence/", {"file": pdf()}, format="multipart"
        )

        assert_error(response, 409, "filing_locked")
        assert not Evidence.objects.exists()

    def test_is_not_found_for_the_client_of_a_draft(self, as_client, draft):
        response = as_client.post(
            f"/api/v1/disputes/{draft.pk}/evidence/", {"file": pdf()}, format="multipart"
        )

        assert_error(response, 404, "not_found")
        assert not Evidence.objects.exists()

    def test_is_forbidden_to_staff_who_are_not_a_party(self, as_staff, dispute):
        response = as_staff.post(
            f"/api/v1/disputes/{dispute.pk}/evidence/", {"file": pdf()}, format="multipart"
        )

        assert_error(response, 403, "not_allowed")


class TestEvidenceListAndDownload:
    @pytest.fixture
    def dispute(self, refund_request):
        return file_dispute(refund_request, evidence=[pdf("one.pdf"), pdf("two.pdf")])

    def test_lists_the_files_oldest_first_to_both_parties_and_staff(
        self, as_client, as_freelancer, as_staff, dispute
    ):
        for api in (as_client, as_freelancer, as_staff):
            body = api.get(f"/api/v1/disputes/{dispute.pk}/evidence/").json()

            assert body["count"] == 2
            assert [e["name"] for e in body["results"]] == ["one.pdf", "two.pdf"]

    def test_sends_the_file_as_an_attachment_that_is_never_sniffed(self, as_client, dispute):
        evidence = Evidence.objects.order_by("pk").first()

        response = as_client.get(f"/api/v1/evidence/{evidence.pk}/download/")

        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF
        disposition = f'attachment; filename="evidence-{evidence.pk}.pdf"'
        assert response["Content-Disposition"] == disposition
        assert response["Content-Type"] == "application/pdf"
        assert response["X-Content-Type-Options"] == "nosniff"

    def test_uses_as_many_queries_for_12_files_as_for_2(
        self, as_client, dispute, django_assert_max_num_queries
    ):
        url = f"/api/v1/disputes/{dispute.pk}/evidence/"
        with CaptureQueriesContext(connection) as two:
            as_client.get(url)
        for index in range(10):
            services.evidence_add(
                dispute=dispute,
                actor=dispute.refund_request.contract.client,
                file=pdf(f"answer-{index}.pdf"),
                now=timezone.now(),
            )

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = as_client.get(url)

        assert response.json()["count"] == 12


# --- Timeline -----------------------------------------------------------------------------------


class TestDisputeTimeline:
    def test_tells_the_story_oldest_first_with_actors_amounts_and_deadlines(
        self, as_client, dispute
    ):
        as_client.post(f"/api/v1/disputes/{dispute.pk}/decline/", {"reason": "Two pages missing."})

        response = as_client.get(f"/api/v1/disputes/{dispute.pk}/timeline/")

        assert response.status_code == 200
        events = response.json()["results"]
        assert [e["kind"] for e in events] == [
            "REFUND_REQUESTED",
            "DISPUTE_FILED",
            "DISPUTE_DECLINED",
        ]
        assert [e["actor"] for e in events] == ["carol-client", "frank-freelancer", "carol-client"]
        assert events[0]["amounts"] == {
            "escrowed": "500.00",
            "paid": "200.00",
            "refund_requested": "300.00",
        }
        assert events[1]["amounts"] == {"refund_requested": "300.00", "disputed": "250.00"}
        assert events[1]["deadline"] == {
            "kind": "client_response",
            "due_at": dispute.response_due_at.isoformat().replace("+00:00", "Z"),
            "party": "client",
        }
        assert events[2]["note"] == "Two pages missing."
        assert all(e["at"].endswith("Z") for e in events)

    def test_names_no_actor_when_a_deadline_acted(self, as_freelancer, dispute):
        with time_machine.travel(dispute.response_due_at, tick=False):
            deadlines.sweep("disputes.client_answers_expire", now=timezone.now(), batch_size=10)

        events = as_freelancer.get(f"/api/v1/disputes/{dispute.pk}/timeline/").json()["results"]

        assert events[-1]["kind"] == "CLIENT_SILENT"
        assert events[-1]["actor"] is None
        assert events[-1]["amounts"] == {"to_freelancer": "250.00", "to_client": "50.00"}

    def test_shows_internal_events_to_staff_only(
        self, as_client, as_freelancer, as_staff, dispute, staff
    ):
        # An agent's internal note; the row stands in for the mediation stage's service.
        TimelineEvent.objects.create(
            refund_request=dispute.refund_request,
            dispute=dispute,
            kind="INTERNAL_NOTE",
            actor=staff,
            at=timezone.now(),
            note="The client has disputed three contracts this month.",
            internal=True,
        )
        url = f"/api/v1/disputes/{dispute.pk}/timeline/"

        kinds = {
            who: [e["kind"] for e in api.get(url).json()["results"]]
            for who, api in [("client", as_client), ("freelancer", as_freelancer)]
        }
        staff_kinds = [e["kind"] for e in as_staff.get(url).json()["results"]]

        assert "INTERNAL_NOTE" not in kinds["client"]
        assert "INTERNAL_NOTE" not in kinds["freelancer"]
        assert staff_kinds[-1] == "INTERNAL_NOTE"

    def test_uses_as_many_queries_for_12_events_as_for_2(
        self, as_client, dispute, django_assert_max_num_queries
    ):
        url = f"/api/v1/disputes/{dispute.pk}/timeline/"
        with CaptureQueriesContext(connection) as two:
            assert as_client.get(url).json()["count"] == 2
        for index in range(10):
            services.evidence_add(
                dispute=dispute,
                actor=dispute.refund_request.contract.client,
                file=pdf(f"answer-{index}.pdf"),
                now=timezone.now(),
            )

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = as_client.get(url)

        assert response.json()["count"] == 12


# --- Support cases ------------------------------------------------------------------------------


class TestSupportCases:
    def test_the_freelancer_opens_a_case_with_files(self, contract, as_freelancer):
        milestone = make_milestone(contract, submitted=True)

        response = as_freelancer.post(
            "/api/v1/support-cases/",
            {
                "milestone": milestone.pk,
                "description": "Delivered two weeks ago; no answer since.",
                "files": [pdf("delivery.pdf"), pdf("chat.pdf")],
            },
            format="multipart",
        )

        assert response.status_code == 201, response.content
        body = response.json()
        case = SupportCase.objects.get()
        assert body["id"] == case.pk
        assert body["milestone"] == milestone.pk
        assert body["contract"] == contract.pk
        assert body["status"] == "OPEN"
        assert body["staff_note"] == ""
        assert body["closed_at"] is None
        assert [e["name"] for e in body["evidence"]] == ["delivery.pdf", "chat.pdf"]

    def test_takes_json_without_files(self, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)

        response = as_freelancer.post(
            "/api/v1/support-cases/", {"milestone": milestone.pk, "description": "Help."}
        )

        assert response.status_code == 201, response.content
        assert response.json()["evidence"] == []

    def test_is_forbidden_to_the_client(self, contract, as_client):
        milestone = make_milestone(contract, funded=True)

        response = as_client.post(
            "/api/v1/support-cases/", {"milestone": milestone.pk, "description": "Help."}
        )

        assert_error(response, 403, "not_the_freelancer")
        assert not SupportCase.objects.exists()

    def test_names_a_milestone_the_user_cannot_see_as_invalid(self, contract, as_stranger):
        milestone = make_milestone(contract, funded=True)

        for pk in (milestone.pk, milestone.pk + 1000):
            response = as_stranger.post(
                "/api/v1/support-cases/", {"milestone": pk, "description": "Help."}
            )

            error = assert_error(response, 400, "invalid_milestone")
            assert list(error["fields"]) == ["milestone"]
        assert not SupportCase.objects.exists()

    def test_refuses_an_ended_contract(self, contract, as_freelancer, refund_request):
        response = as_freelancer.post(
            "/api/v1/support-cases/",
            {"milestone": refund_request.milestone_id, "description": "Help."},
        )

        assert_error(response, 409, "not_active")

    def test_refuses_a_disguised_file_and_opens_nothing(self, contract, as_freelancer):
        milestone = make_milestone(contract, funded=True)
        fake = pdf("x.pdf", content=b"MZ\x90\x00\x03")

        response = as_freelancer.post(
            "/api/v1/support-cases/",
            {"milestone": milestone.pk, "description": "Help.", "files": [fake]},
            format="multipart",
        )

        assert_error(response, 400, "invalid_file")
        assert not SupportCase.objects.exists()

    def test_lists_the_users_own_cases_and_all_of_them_to_staff(
        self, contract, freelancer, stranger, as_freelancer, as_stranger, as_staff
    ):
        milestone = make_milestone(contract, funded=True)
        case = services.support_case_open(
            milestone=milestone, actor=freelancer, description="Help.", now=timezone.now()
        )

        assert [c["id"] for c in as_freelancer.get("/api/v1/support-cases/").json()["results"]] == [
            case.pk
        ]
        assert as_stranger.get("/api/v1/support-cases/").json()["count"] == 0
        assert as_staff.get("/api/v1/support-cases/").json()["count"] == 1
        assert as_freelancer.get(f"/api/v1/support-cases/{case.pk}/").status_code == 200
        assert_error(as_stranger.get(f"/api/v1/support-cases/{case.pk}/"), 404, "not_found")


# --- Someone who is not a party -----------------------------------------------------------------


class TestSomeoneWhoIsNotAParty:
    @pytest.mark.parametrize(
        ("method", "path", "data"),
        [
            ("post", "/api/v1/contracts/{contract}/end/", {"payments": []}),
            ("get", "/api/v1/refund-requests/{request}/", None),
            ("post", "/api/v1/refund-requests/{request}/accept/", None),
            ("post", "/api/v1/refund-requests/{request}/dispute/", filing()),
            ("get", "/api/v1/disputes/{dispute}/", None),
            ("patch", "/api/v1/disputes/{dispute}/", {"amount": "1.00"}),
            ("patch", "/api/v1/disputes/{dispute}/", {"amount": "not money"}),
            ("get", "/api/v1/disputes/{dispute}/evidence/", None),
            ("post", "/api/v1/disputes/{dispute}/evidence/", "multipart"),
            ("post", "/api/v1/disputes/{dispute}/submit/", None),
            ("post", "/api/v1/disputes/{dispute}/accept/", None),
            ("post", "/api/v1/disputes/{dispute}/decline/", {"reason": "No."}),
            ("get", "/api/v1/disputes/{dispute}/timeline/", None),
            ("get", "/api/v1/evidence/{evidence}/download/", None),
        ],
    )
    def test_finds_nothing_and_changes_nothing(
        self, contract, refund_request, as_stranger, method, path, data
    ):
        other = end_contract(
            ContractFactory(client=contract.client, freelancer=contract.freelancer)
        )
        dispute = file_dispute(other, evidence=[pdf()])
        url = path.format(
            contract=contract.pk,
            request=refund_request.pk,
            dispute=dispute.pk,
            evidence=Evidence.objects.get().pk,
        )
        rows = ledger_rows()
        kwargs = {"data": {"file": pdf()}, "format": "multipart"} if data == "multipart" else {}

        response = getattr(as_stranger, method)(url, **(kwargs or {"data": data}))

        assert_error(response, 404, "not_found")
        assert ledger_rows() == rows
        assert Dispute.objects.get().status == "AWAITING_CLIENT"
        assert RefundRequest.objects.get(pk=refund_request.pk).status == "OPEN"
        assert Evidence.objects.count() == 1

    def test_sees_nothing_in_the_lists(self, as_stranger, dispute):
        for path in ["refund-requests", "disputes", "support-cases"]:
            assert as_stranger.get(f"/api/v1/{path}/").json()["count"] == 0


class TestSchema:
    def test_documents_every_endpoint_of_refund_requests_disputes_and_support_cases(self, db):
        schema = APIClient().get("/api/schema/").content.decode()

        for path in [
            "/api/v1/contracts/{id}/end/",
            "/api/v1/refund-requests/",
            "/api/v1/refund-requests/{id}/",
            "/api/v1/refund-requests/{id}/accept/",
            "/api/v1/refund-requests/{id}/dispute/",
            "/api/v1/disputes/",
            "/api/v1/disputes/{id}/",
            "/api/v1/disputes/{id}/evidence/",
            "/api/v1/disputes/{id}/submit/",
            "/api/v1/disputes/{id}/accept/",
            "/api/v1/disputes/{id}/decline/",
            "/api/v1/disputes/{id}/timeline/",
            "/api/v1/evidence/{id}/download/",
            "/api/v1/support-cases/",
            "/api/v1/support-cases/{id}/",
            "/api/v1/notifications/",
            "/api/v1/notifications/{id}/read/",
            "/api/v1/notifications/read-all/",
        ]:
            assert f"  {path}:" in schema
