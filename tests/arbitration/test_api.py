"""The REST API of arbitration: the fee window, evidence requests and the final award."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from arbitration import services
from arbitration.models import ArbitrationCase, ArbitrationFee, Award, EvidenceRequest
from contracts.models import Milestone
from core import deadlines
from disputes import services as dispute_services
from disputes.models import Dispute, Evidence, TimelineEvent
from mediation import services as mediation
from tests import kit
from tests.kit import (
    ContractFactory,
    api_as,
    assert_error,
    balances,
    declined_dispute,
    end_contract,
    file_dispute,
    ledger_rows,
    suspended,
    url,
    utc,
)
from tests.kit import case as open_case
from tests.kit import window as open_window

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("arbitration_fee_of_50")]

PDF = b"%PDF-1.4 the delivery log"


def pdf(name: str = "delivery-log.pdf") -> SimpleUploadedFile:
    # The delivery log, under its own name.
    return kit.pdf(name, PDF)


def award_body(to_freelancer="180.00", to_client="120.00", reasons="Four pages met the brief."):
    return {"to_freelancer": to_freelancer, "to_client": to_client, "reasons": reasons}


def evidence_request_body(party="client", days=3, message="Send the signed change request."):
    due_at = timezone.now() + timedelta(days=days)
    return {"party": party, "message": message, "due_at": utc(due_at)}


# --- Building disputes in each stage, through the services --------------------------------------


@pytest.fixture
def window(contract, agent):
    return open_window(contract, agent)


@pytest.fixture
def case(contract, agent):
    return open_case(contract, agent)


# --- Stories ------------------------------------------------------------------------------------


class TestTheWholeStory:
    def test_from_a_rejected_resolution_through_both_fees_and_more_evidence_to_the_award(
        self, contract, as_agent, as_arbitrator, as_client, as_freelancer
    ):
        """Client funds 500 and pays 200 on ending; the freelancer disputes 250 of the 300 left;
        the client declines. The agent proposes 150/150: the freelancer accepts, the client
        rejects. Both pay 50 for arbitration; the arbitrator asks the client for evidence,
        which the client uploads, then awards 180 (60 %) to the freelancer and 120 to the
        client. Freelancer received 380, client refunded 120, each paid a fee of 50, escrow 0."""
        dispute = declined_dispute(contract)
        start_rows = ledger_rows()

        proposed = as_agent.post(
            url(dispute, "resolution/"),
            {"to_freelancer": "150.00", "to_client": "150.00", "rationale": "Half each."},
        )
        as_freelancer.post(url(dispute, "resolution/accept/"))
        notice = as_client.post(url(dispute, "resolution/reject/"))
        freelancer_paid = as_freelancer.post(url(dispute, "arbitration/pay-fee/"))
        seen_by_client = as_client.get(url(dispute)).json()
        both_paid = as_client.post(url(dispute, "arbitration/pay-fee/"))
        requested = as_arbitrator.post(
            url(dispute, "evidence-requests/"), evidence_request_body("client")
        )
        requests_seen = {
            who: api.get(url(dispute, "evidence-requests/")).json()["results"]
            for who, api in [("client", as_client), ("freelancer", as_freelancer)]
        }
        in_arbitration = as_freelancer.get(url(dispute)).json()
        uploaded = as_client.post(
            url(dispute, "evidence/"), {"file": pdf(), "description": "The log"}, format="multipart"
        )
        awarded = as_arbitrator.post(url(dispute, "award/"), award_body())
        final = {who: api.get(url(dispute)).json() for who, api in [
            ("client", as_client), ("freelancer", as_freelancer)
        ]}  # fmt: skip

        assert proposed.status_code == 201, proposed.content
        assert notice.status_code == 200, notice.content
        assert notice.json()["status"] == "ARBITRATION_WINDOW"
        assert notice.json()["deadline"]["party"] == "parties"
        assert notice.json()["arbitration"]["fee"] == "50.00"

        assert freelancer_paid.status_code == 200, freelancer_paid.content
        assert seen_by_client["status"] == "ARBITRATION_WINDOW"
        fees = seen_by_client["arbitration"]["fees"]
        assert fees["freelancer"]["paid"] is True
        assert fees["freelancer"]["paid_at"].endswith("Z")
        assert fees["client"] == {"paid": False, "paid_at": None, "refunded": False}

        assert both_paid.status_code == 200, both_paid.content
        opened = both_paid.json()
        assert opened["status"] == "IN_ARBITRATION"
        assert opened["deadline"] is None
        assert opened["arbitration"]["window_due_at"] is None
        assert opened["arbitration"]["case"]["status"] == "OPEN"
        assert opened["arbitration"]["case"]["arbitrator"] is None
        assert all(fee["paid"] for fee in opened["arbitration"]["fees"].values())

        assert requested.status_code == 201, requested.content
        request = requested.json()
        assert set(request) == {
            "id", "party", "message", "due_at", "status", "requested_at", "closed_at"
        }  # fmt: skip
        assert (request["party"], request["status"]) == ("client", "OPEN")
        assert requests_seen["client"] == requests_seen["freelancer"] == [request]
        assert in_arbitration["arbitration"]["evidence_requests"] == [request]
        assert in_arbitration["arbitration"]["case"]["arbitrator"] == "art-arbitrator"

        assert uploaded.status_code == 201, uploaded.content
        assert uploaded.json()["uploaded_by"] == "carol-client"

        assert awarded.status_code == 201, awarded.content
        for body in [awarded.json(), *final.values()]:
            assert body["status"] == "CLOSED"
            assert body["outcome"] == "AWARDED"
            assert (body["to_freelancer"], body["to_client"]) == ("180.00", "120.00")
            award = body["arbitration"]["award"]
            assert award["to_freelancer"] == "180.00"
            assert award["to_client"] == "120.00"
            assert award["reasons"] == "Four pages met the brief."
            assert award["issued_at"].endswith("Z")
            assert body["arbitration"]["case"]["status"] == "AWARDED"
            assert body["arbitration"]["evidence_requests"] == []
        assert EvidenceRequest.objects.get().status == "CLOSED"
        assert final["client"]["resolution"]["answers"] == {
            "freelancer": "ACCEPTED",
            "client": "REJECTED",
        }

        # Two fees and the award's settlement.
        assert ledger_rows() == start_rows + 3
        assert balances(as_freelancer) == {"EARNINGS": "380.00", "FUNDING": "-50.00"}
        assert balances(as_client) == {"FUNDING": "-550.00", "REFUNDS": "120.00"}
        assert Milestone.objects.get().escrow_balance == Decimal("0.00")


# --- The fee ------------------------------------------------------------------------------------


class TestArbitrationFeePay:
    def test_refuses_paying_twice_and_takes_the_fee_once(self, window, as_client):
        as_client.post(url(window, "arbitration/pay-fee/"))
        rows = ledger_rows()

        response = as_client.post(url(window, "arbitration/pay-fee/"))

        assert_error(response, 409, "fee_already_paid")
        assert ledger_rows() == rows
        assert ArbitrationFee.objects.count() == 1

    def test_works_until_the_instant_before_the_window_closes_and_not_at_it(
        self, window, as_client, as_freelancer
    ):
        due = window.response_due_at
        rows = ledger_rows()

        with time_machine.travel(due - timedelta(microseconds=1), tick=False):
            in_time = as_freelancer.post(url(window, "arbitration/pay-fee/"))
        with time_machine.travel(due, tick=False):
            late = as_client.post(url(window, "arbitration/pay-fee/"))

        assert_error(late, 409, "deadline_passed")
        assert in_time.status_code == 200, in_time.content
        assert list(ArbitrationFee.objects.values_list("party", flat=True)) == ["freelancer"]
        # The late payment found the window closed by its deadline: only the freelancer paid,
        # so the fee went back and R to the freelancer (fee, its refund, the payout).
        assert ledger_rows() == rows + 3
        assert Dispute.objects.get().outcome == Dispute.Outcome.ONLY_FREELANCER_PAID

    @pytest.mark.parametrize("who", ["as_agent", "as_arbitrator"])
    def test_is_forbidden_to_staff(self, request, window, who):
        response = request.getfixturevalue(who).post(url(window, "arbitration/pay-fee/"))

        assert_error(response, 403, "not_allowed")
        assert ArbitrationFee.objects.count() == 0

    def test_is_forbidden_to_a_suspended_party(self, window, client_user):
        rows = ledger_rows()

        response = suspended(client_user).post(url(window, "arbitration/pay-fee/"))

        assert_error(response, 403, "account_suspended")
        assert ledger_rows() == rows
        assert ArbitrationFee.objects.count() == 0

    def test_refuses_a_dispute_whose_window_is_not_open(self, contract, as_client):
        in_mediation = declined_dispute(contract)

        response = as_client.post(url(in_mediation, "arbitration/pay-fee/"))

        assert_error(response, 409, "illegal_transition")
        assert ArbitrationFee.objects.count() == 0

    def test_a_replay_with_the_same_idempotency_key_pays_once(self, window, as_client):
        rows = ledger_rows()
        headers = {"Idempotency-Key": "fee-1"}

        first = as_client.post(url(window, "arbitration/pay-fee/"), headers=headers)
        replay = as_client.post(url(window, "arbitration/pay-fee/"), headers=headers)
        another_key = as_client.post(
            url(window, "arbitration/pay-fee/"), headers={"Idempotency-Key": "fee-2"}
        )

        assert first.status_code == replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert_error(another_key, 409, "fee_already_paid")
        assert ledger_rows() == rows + 1
        assert balances(as_client)["FUNDING"] == "-550.00"


class TestTheWindowClosing:
    def test_only_the_freelancer_paid_so_the_freelancer_gets_r_and_the_fee_back(
        self, window, as_freelancer, as_client
    ):
        as_freelancer.post(url(window, "arbitration/pay-fee/"))
        due = window.response_due_at
        deadlines.sweep("arbitration.windows_close", now=due, batch_size=10)

        body = as_client.get(url(window)).json()

        assert body["status"] == "CLOSED"
        assert body["outcome"] == "ONLY_FREELANCER_PAID"
        assert body["arbitration"]["window_due_at"] is None
        assert body["arbitration"]["fees"]["freelancer"]["paid"] is True
        assert body["arbitration"]["fees"]["freelancer"]["refunded"] is True
        assert body["arbitration"]["fees"]["client"]["paid"] is False
        assert body["arbitration"]["case"] is None
        assert balances(as_freelancer) == {"EARNINGS": "500.00", "FUNDING": "0.00"}


# --- Evidence requests --------------------------------------------------------------------------


class TestEvidenceRequestCreate:
    @pytest.mark.parametrize("who", ["as_agent", "as_client", "as_freelancer"])
    def test_is_forbidden_to_anyone_but_an_arbitrator(self, request, case, who):
        response = request.getfixturevalue(who).post(
            url(case, "evidence-requests/"), evidence_request_body()
        )

        assert_error(response, 403, "not_an_arbitrator")
        assert EvidenceRequest.objects.count() == 0

    @pytest.mark.parametrize(
        ("changes", "field", "code"),
        [
            ({"party": "agent"}, "party", "invalid_choice"),
            ({"message": "   "}, "message", "invalid"),
            ({"due_at": "2001-01-01T00:00:00Z"}, "due_at", "invalid"),
            ({"due_at": "next week"}, "due_at", "invalid"),
        ],
    )
    def test_refuses_bad_input_and_asks_nothing(self, case, as_arbitrator, changes, field, code):
        body = {**evidence_request_body(), **changes}

        response = as_arbitrator.post(url(case, "evidence-requests/"), body)

        error = assert_error(response, 400, code)
        assert set(error["fields"]) == {field}
        assert EvidenceRequest.objects.count() == 0

    def test_refuses_a_dispute_without_an_open_case(self, window, as_arbitrator):
        response = as_arbitrator.post(url(window, "evidence-requests/"), evidence_request_body())

        assert_error(response, 409, "case_not_open")


class TestEvidenceRequestList:
    def test_shows_the_requests_to_either_party_to_both_and_to_staff(
        self, case, arbitrator, as_client, as_freelancer, as_agent
    ):
        for party in ("freelancer", "client"):
            services.evidence_request_create(
                dispute=case,
                arbitrator=arbitrator,
                party=party,
                message=f"A question for the {party}.",
                due_at=timezone.now() + timedelta(days=2),
                now=timezone.now(),
            )

        apis = {"client": as_client, "freelancer": as_freelancer, "agent": as_agent}

        seen = {
            who: [r["party"] for r in api.get(url(case, "evidence-requests/")).json()["results"]]
            for who, api in apis.items()
        }

        assert seen == {
            "client": ["freelancer", "client"],
            "freelancer": ["freelancer", "client"],
            "agent": ["freelancer", "client"],
        }

    def test_is_empty_before_a_case_opens(self, window, as_client):
        assert as_client.get(url(window, "evidence-requests/")).json()["results"] == []


class TestAnsweringAnEvidenceRequest:
    @pytest.fixture
    def asked(self, case, arbitrator):
        """The arbitrator asked the client for evidence, due in 3 days."""
        return services.evidence_request_create(
            dispute=case,
            arbitrator=arbitrator,
            party="client",
            message="Send the change request.",
            due_at=timezone.now() + timedelta(days=3),
            now=timezone.now(),
        )

    def test_the_party_asked_uploads_until_the_instant_before_the_due_date_and_not_at_it(
        self, case, asked, as_client
    ):
        with time_machine.travel(asked.due_at - timedelta(microseconds=1), tick=False):
            in_time = as_client.post(url(case, "evidence/"), {"file": pdf()}, format="multipart")
        with time_machine.travel(asked.due_at, tick=False):
            late = as_client.post(
                url(case, "evidence/"), {"file": pdf("late.pdf")}, format="multipart"
            )

        assert in_time.status_code == 201, in_time.content
        assert_error(late, 409, "deadline_passed")
        assert list(Evidence.objects.values_list("name", flat=True)) == ["delivery-log.pdf"]

    def test_the_other_party_may_not_upload(self, case, asked, as_freelancer):
        response = as_freelancer.post(url(case, "evidence/"), {"file": pdf()}, format="multipart")

        assert_error(response, 409, "filing_locked")
        assert Evidence.objects.count() == 0

    def test_an_agent_extends_the_request_and_the_party_may_upload_later(
        self, case, asked, as_agent, as_client
    ):
        new_due = asked.due_at + timedelta(days=2)

        extended = as_agent.post(
            url(case, "extend/"), {"due_at": utc(new_due), "reason": "The client is ill."}
        )
        with time_machine.travel(asked.due_at + timedelta(days=1), tick=False):
            uploaded = as_client.post(url(case, "evidence/"), {"file": pdf()}, format="multipart")

        assert extended.status_code == 200, extended.content
        assert extended.json()["arbitration"]["evidence_requests"][0]["due_at"] == utc(new_due)
        assert uploaded.status_code == 201, uploaded.content


# --- The award ----------------------------------------------------------------------------------


class TestAwardIssue:
    def test_refuses_an_award_while_no_case_is_open(self, window, as_arbitrator):
        rows = ledger_rows()

        response = as_arbitrator.post(url(window, "award/"), award_body())

        assert_error(response, 409, "case_not_open")
        assert ledger_rows() == rows
        assert Award.objects.count() == 0

    def test_refuses_a_second_award_and_moves_nothing(self, case, as_arbitrator):
        as_arbitrator.post(url(case, "award/"), award_body())
        rows = ledger_rows()

        response = as_arbitrator.post(url(case, "award/"), award_body("300.00", "0.00"))

        assert_error(response, 409, "case_not_open")
        assert ledger_rows() == rows
        assert Award.objects.get().to_freelancer == Decimal("180.00")

    @pytest.mark.parametrize(
        ("to_freelancer", "to_client", "code"),
        [
            ("180.00", "119.99", "split_mismatch"),
            ("-20.00", "320.00", "invalid_amount"),
            ("180", "a lot", "invalid_amount"),
        ],
    )
    def test_refuses_a_split_that_is_not_exact(
        self, case, as_arbitrator, to_freelancer, to_client, code
    ):
        rows = ledger_rows()

        response = as_arbitrator.post(url(case, "award/"), award_body(to_freelancer, to_client))

        assert_error(response, 400, code)
        assert ledger_rows() == rows
        assert ArbitrationCase.objects.get().status == "OPEN"

    def test_requires_reasons(self, case, as_arbitrator):
        response = as_arbitrator.post(url(case, "award/"), award_body(reasons=""))

        error = assert_error(response, 400, "reasons_required")
        assert set(error["fields"]) == {"reasons"}

    @pytest.mark.parametrize("who", ["as_agent", "as_client", "as_freelancer"])
    def test_is_forbidden_to_anyone_but_an_arbitrator(self, request, case, who):
        rows = ledger_rows()

        response = request.getfixturevalue(who).post(url(case, "award/"), award_body())

        assert_error(response, 403, "not_an_arbitrator")
        assert ledger_rows() == rows
        assert Award.objects.count() == 0

    def test_is_forbidden_to_a_suspended_arbitrator(self, case, arbitrator):
        response = suspended(arbitrator).post(url(case, "award/"), award_body())

        assert_error(response, 403, "account_suspended")
        assert Award.objects.count() == 0

    def test_a_replay_with_the_same_idempotency_key_moves_the_money_once(self, case, as_arbitrator):
        rows = ledger_rows()
        headers = {"Idempotency-Key": "award-1"}

        first = as_arbitrator.post(url(case, "award/"), award_body(), headers=headers)
        replay = as_arbitrator.post(url(case, "award/"), award_body(), headers=headers)
        changed = as_arbitrator.post(
            url(case, "award/"), award_body("0.00", "300.00"), headers=headers
        )

        assert first.status_code == replay.status_code == 201
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert_error(changed, 409, "idempotency_key_reused")
        assert ledger_rows() == rows + 1
        assert Award.objects.count() == 1


# --- Visibility and cost ------------------------------------------------------------------------


class TestSomeoneWhoIsNotAParty:
    @pytest.mark.parametrize(
        ("method", "action", "data"),
        [
            ("post", "arbitration/pay-fee/", None),
            ("get", "evidence-requests/", None),
            ("post", "evidence-requests/", "request"),
            ("post", "award/", award_body()),
            ("post", "resolution/accept/", None),
            ("post", "extend/", {"due_at": "2099-01-01T00:00:00Z", "reason": "Because."}),
        ],
    )
    def test_finds_nothing_and_changes_nothing(
        self, contract, agent, as_stranger, method, action, data
    ):
        window = open_window(contract, agent)
        rows, events = ledger_rows(), TimelineEvent.objects.count()
        body = evidence_request_body() if data == "request" else data

        response = getattr(as_stranger, method)(url(window, action), body)

        assert_error(response, 404, "not_found")
        assert ledger_rows() == rows
        assert TimelineEvent.objects.count() == events
        assert ArbitrationFee.objects.count() == 0
        assert Dispute.objects.get().status == "ARBITRATION_WINDOW"

    def test_sees_no_dispute_in_the_list(self, window, as_stranger):
        assert as_stranger.get("/api/v1/disputes/").json()["count"] == 0


class TestDisputeListInEveryStage:
    def test_uses_as_many_queries_for_three_disputes_in_each_stage_as_for_one(
        self, client_user, freelancer, agent, arbitrator, django_assert_max_num_queries
    ):
        def add_one_in_each_stage() -> None:
            def new_contract():
                return ContractFactory(client=client_user, freelancer=freelancer)

            now = timezone.now()
            # Closed by the window: only the freelancer paid (long ago, so the sweep closes it
            # and nothing else).
            past = now - timedelta(days=30)
            lapsed = open_window(new_contract(), agent, now=past)
            services.arbitration_fee_pay(dispute=lapsed, actor=freelancer, now=past)
            deadlines.sweep("arbitration.windows_close", now=lapsed.response_due_at, batch_size=10)
            # Draft, awaiting the client, in mediation, resolution proposed.
            dispute_services.dispute_start(
                refund_request=end_contract(new_contract()),
                actor=freelancer,
                feedback_rating=3,
                feedback_comment="Fine.",
                now=now,
            )
            file_dispute(end_contract(new_contract()))
            declined_dispute(new_contract())
            proposed = declined_dispute(new_contract())
            mediation.resolution_propose(
                dispute=proposed,
                agent=agent,
                to_freelancer="100.00",
                to_client="200.00",
                rationale="Mostly the client's.",
                now=now,
            )
            # Arbitration window with one fee paid; a case with an evidence request; awarded.
            window = open_window(new_contract(), agent)
            services.arbitration_fee_pay(dispute=window, actor=client_user, now=now)
            asked = open_case(new_contract(), agent)
            services.evidence_request_create(
                dispute=asked,
                arbitrator=arbitrator,
                party="freelancer",
                message="The source files.",
                due_at=now + timedelta(days=2),
                now=now,
            )
            awarded = open_case(new_contract(), agent)
            services.award_issue(
                dispute=awarded,
                arbitrator=arbitrator,
                to_freelancer="200.00",
                to_client="100.00",
                reasons="Delivered.",
                now=now,
            )

        api = api_as(freelancer)
        add_one_in_each_stage()
        with CaptureQueriesContext(connection) as one_each:
            first = api.get("/api/v1/disputes/").json()
        add_one_in_each_stage()
        add_one_in_each_stage()

        with django_assert_max_num_queries(len(one_each.captured_queries)):
            response = api.get("/api/v1/disputes/")

        assert first["count"] == 8
        results = response.json()["results"]
        assert len(results) == 24
        assert {d["status"] for d in results} == {
            "DRAFT", "AWAITING_CLIENT", "IN_MEDIATION", "RESOLUTION_PROPOSED",
            "ARBITRATION_WINDOW", "IN_ARBITRATION", "CLOSED",
        }  # fmt: skip
        with_request = [d for d in results if d["status"] == "IN_ARBITRATION"]
        assert all(len(d["arbitration"]["evidence_requests"]) == 1 for d in with_request)
        cases = [d["arbitration"]["case"] for d in results if d["arbitration"]]
        assert [c["arbitrator"] for c in cases if c] == ["art-arbitrator"] * 6
        assert sum(1 for d in results if d["resolution"] is not None) == 15
        assert sum(1 for d in results if d["arbitration"] is not None) == 12


class TestSchema:
    def test_documents_the_arbitration_endpoints_and_the_dispute_objects_arbitration(self, db):
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()

        assert {
            "/api/v1/disputes/{id}/arbitration/pay-fee/",
            "/api/v1/disputes/{id}/evidence-requests/",
            "/api/v1/disputes/{id}/award/",
        } <= set(schema["paths"])
        pay_fee = schema["paths"]["/api/v1/disputes/{id}/arbitration/pay-fee/"]["post"]
        assert "Idempotency-Key" in [p["name"] for p in pay_fee["parameters"]]
        award = schema["paths"]["/api/v1/disputes/{id}/award/"]["post"]
        assert "Idempotency-Key" in [p["name"] for p in award["parameters"]]
        arbitration = schema["components"]["schemas"]["Arbitration"]["properties"]
        assert set(arbitration) == {
            "window_due_at", "fee", "currency", "fees", "case", "evidence_requests", "award"
        }  # fmt: skip
