"""The REST API of mediation: resolutions, the parties' answers, extensions and internal notes."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from contracts.models import Milestone
from disputes.models import Dispute, TimelineEvent
from mediation import services
from mediation.models import Resolution
from tests.kit import (
    ContractFactory,
    assert_error,
    balances,
    declined_dispute,
    end_contract,
    ledger_rows,
    suspended,
    url,
    utc,
)

pytestmark = pytest.mark.django_db


def split(to_freelancer="180.00", to_client="120.00", rationale="Four of five pages met it."):
    return {"to_freelancer": to_freelancer, "to_client": to_client, "rationale": rationale}


@pytest.fixture
def dispute(contract):
    """R = 300.00 (500 funded, 200 paid on ending), D = 250.00, declined: in mediation."""
    return declined_dispute(contract)


@pytest.fixture
def proposed(dispute, agent):
    """The agent proposed 180.00 to the freelancer and 120.00 to the client."""
    services.resolution_propose(dispute=dispute, agent=agent, **split(), now=timezone.now())
    dispute.refresh_from_db()
    return dispute


# --- Stories ------------------------------------------------------------------------------------


class TestTheMediationStory:
    def test_agent_proposes_both_parties_accept_and_the_money_moves_as_proposed(
        self, dispute, as_agent, as_client, as_freelancer
    ):
        rows = ledger_rows()

        proposed = as_agent.post(url(dispute, "resolution/"), split())
        freelancer_accepted = as_freelancer.post(url(dispute, "resolution/accept/"))
        client_accepted = as_client.post(url(dispute, "resolution/accept/"))

        assert proposed.status_code == 201, proposed.content
        body = proposed.json()
        assert body["status"] == "RESOLUTION_PROPOSED"
        assert body["deadline"]["kind"] == "resolution_response"
        assert body["deadline"]["party"] == "parties"
        resolution = Resolution.objects.get()
        assert body["resolution"] == {
            "id": resolution.pk,
            "to_freelancer": "180.00",
            "to_client": "120.00",
            "currency": "USD",
            "rationale": "Four of five pages met it.",
            "status": "PROPOSED",
            "proposed_at": utc(resolution.proposed_at),
            "binding": False,
            "answers": {"freelancer": None, "client": None},
        }
        assert body["arbitration"] is None
        assert freelancer_accepted.status_code == 200, freelancer_accepted.content
        assert freelancer_accepted.json()["status"] == "RESOLUTION_PROPOSED"
        assert freelancer_accepted.json()["resolution"]["answers"] == {
            "freelancer": "ACCEPTED",
            "client": None,
        }
        assert client_accepted.status_code == 200, client_accepted.content
        closed = client_accepted.json()
        assert closed["status"] == "CLOSED"
        assert closed["outcome"] == "RESOLUTION_ACCEPTED"
        assert (closed["to_freelancer"], closed["to_client"]) == ("180.00", "120.00")
        assert closed["resolution"]["status"] == "ACCEPTED"
        assert closed["resolution"]["answers"] == {"freelancer": "ACCEPTED", "client": "ACCEPTED"}
        assert closed["arbitration"] is None
        assert closed["deadline"] is None
        assert ledger_rows() == rows + 1
        assert balances(as_freelancer)["EARNINGS"] == "380.00"  # 200 paid on ending + 180
        assert balances(as_client)["REFUNDS"] == "120.00"
        assert Milestone.objects.get().escrow_balance == Decimal("0.00")

    def test_a_rejection_brings_a_notice_and_opens_the_arbitration_window(
        self, proposed, as_client, as_freelancer
    ):
        rows = ledger_rows()

        as_freelancer.post(url(proposed, "resolution/accept/"))
        response = as_client.post(url(proposed, "resolution/reject/"))

        assert response.status_code == 200, response.content
        body = response.json()
        proposed.refresh_from_db()
        assert body["status"] == "ARBITRATION_WINDOW"
        assert body["deadline"]["kind"] == "arbitration_window"
        assert body["deadline"]["party"] == "parties"
        assert body["deadline"]["due_at"] == utc(proposed.response_due_at)
        assert body["resolution"]["status"] == "REJECTED"
        assert body["resolution"]["answers"] == {"freelancer": "ACCEPTED", "client": "REJECTED"}
        assert body["arbitration"] == {
            "window_due_at": utc(proposed.response_due_at),
            "fee": "50.00",
            "currency": "USD",
            "fees": {
                "freelancer": {"paid": False, "paid_at": None, "refunded": False},
                "client": {"paid": False, "paid_at": None, "refunded": False},
            },
            "case": None,
            "evidence_requests": [],
            "award": None,
        }
        assert ledger_rows() == rows
        assert Milestone.objects.get().escrow_balance == Decimal("300.00")


# --- Proposing ----------------------------------------------------------------------------------


class TestResolutionPropose:
    @pytest.mark.parametrize(
        ("to_freelancer", "to_client", "code", "field"),
        [
            ("150.00", "149.99", "split_mismatch", "to_client"),
            ("300.01", "0.00", "split_mismatch", "to_freelancer"),
            ("-10.00", "310.00", "invalid_amount", "to_freelancer"),
            ("150.001", "149.999", "invalid_amount", "to_client"),
            ("abc", "300.00", "invalid_amount", "to_freelancer"),
        ],
    )
    def test_refuses_a_split_that_is_not_exact_and_changes_nothing(
        self, dispute, as_agent, to_freelancer, to_client, code, field
    ):
        events = TimelineEvent.objects.count()

        response = as_agent.post(url(dispute, "resolution/"), split(to_freelancer, to_client))

        error = assert_error(response, 400, code)
        assert field in error["fields"]
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert Resolution.objects.count() == 0
        assert TimelineEvent.objects.count() == events

    def test_refuses_an_amount_sent_as_a_json_number(self, dispute, as_agent):
        response = as_agent.post(url(dispute, "resolution/"), split(to_freelancer=150))

        error = assert_error(response, 400, "invalid_amount")
        assert set(error["fields"]) == {"to_freelancer"}
        assert Resolution.objects.count() == 0

    def test_requires_a_rationale(self, dispute, as_agent):
        response = as_agent.post(url(dispute, "resolution/"), split(rationale="  "))

        error = assert_error(response, 400, "rationale_required")
        assert set(error["fields"]) == {"rationale"}
        assert Resolution.objects.count() == 0

    @pytest.mark.parametrize("who", ["as_freelancer", "as_client", "as_arbitrator"])
    def test_is_forbidden_to_anyone_but_a_mediation_agent(self, request, dispute, who):
        response = request.getfixturevalue(who).post(url(dispute, "resolution/"), split())

        assert_error(response, 403, "not_an_agent")
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert Resolution.objects.count() == 0

    def test_is_forbidden_to_a_suspended_agent(self, dispute, agent):
        response = suspended(agent).post(url(dispute, "resolution/"), split())

        assert_error(response, 403, "account_suspended")
        assert Resolution.objects.count() == 0

    def test_refuses_a_second_proposal(self, proposed, as_agent):
        response = as_agent.post(url(proposed, "resolution/"), split("150.00", "150.00"))

        assert_error(response, 409, "illegal_transition")
        assert Resolution.objects.count() == 1

    def test_refuses_a_dispute_not_yet_in_mediation(self, contract, as_agent):
        from tests.kit import file_dispute

        awaiting = file_dispute(end_contract(ContractFactory(client=contract.client)))

        response = as_agent.post(url(awaiting, "resolution/"), split())

        assert_error(response, 409, "illegal_transition")

    def test_decides_a_small_claim_at_once_and_bindingly(
        self, settings, dispute, as_agent, as_freelancer, as_client
    ):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "500.00"
        rows = ledger_rows()

        response = as_agent.post(url(dispute, "resolution/"), split())

        assert response.status_code == 201, response.content
        body = response.json()
        assert body["status"] == "CLOSED"
        assert body["outcome"] == "SMALL_CLAIM"
        assert body["resolution"]["status"] == "BINDING"
        assert body["resolution"]["binding"] is True
        assert body["deadline"] is None
        assert ledger_rows() == rows + 1
        assert balances(as_freelancer)["EARNINGS"] == "380.00"
        assert balances(as_client)["REFUNDS"] == "120.00"

    def test_a_replay_with_the_same_idempotency_key_decides_a_small_claim_once(
        self, settings, dispute, as_agent
    ):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "500.00"
        rows = ledger_rows()
        headers = {"Idempotency-Key": "small-claim-1"}

        first = as_agent.post(url(dispute, "resolution/"), split(), headers=headers)
        replay = as_agent.post(url(dispute, "resolution/"), split(), headers=headers)

        assert first.status_code == replay.status_code == 201
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert ledger_rows() == rows + 1
        assert Resolution.objects.count() == 1


# --- Answering ----------------------------------------------------------------------------------


class TestResolutionAnswer:
    def test_refuses_a_second_answer(self, proposed, as_freelancer):
        as_freelancer.post(url(proposed, "resolution/accept/"))

        response = as_freelancer.post(url(proposed, "resolution/reject/"))

        assert_error(response, 409, "already_answered")
        proposed.refresh_from_db()
        assert proposed.status == Dispute.Status.RESOLUTION_PROPOSED

    def test_works_until_the_instant_before_the_deadline_and_not_at_it(
        self, proposed, as_freelancer, as_client
    ):
        due = proposed.response_due_at

        with time_machine.travel(due - timedelta(microseconds=1), tick=False):
            in_time = as_freelancer.post(url(proposed, "resolution/accept/"))
        with time_machine.travel(due, tick=False):
            late = as_client.post(url(proposed, "resolution/reject/"))

        assert_error(late, 409, "deadline_passed")
        assert in_time.status_code == 200, in_time.content
        resolution = Resolution.objects.get()
        assert (resolution.freelancer_answer, resolution.client_answer) == ("ACCEPTED", "")

    @pytest.mark.parametrize("who", ["as_agent", "as_arbitrator"])
    def test_is_forbidden_to_staff_who_are_not_a_party(self, request, proposed, who):
        response = request.getfixturevalue(who).post(url(proposed, "resolution/accept/"))

        assert_error(response, 403, "not_allowed")
        assert Resolution.objects.get().status == "PROPOSED"

    def test_is_forbidden_to_a_suspended_party(self, proposed, client_user):
        response = suspended(client_user).post(url(proposed, "resolution/reject/"))

        assert_error(response, 403, "account_suspended")
        proposed.refresh_from_db()
        assert proposed.status == Dispute.Status.RESOLUTION_PROPOSED

    def test_refuses_an_answer_when_nothing_is_proposed(self, dispute, as_client):
        assert_error(as_client.post(url(dispute, "resolution/accept/")), 409, "illegal_transition")

    def test_a_replay_of_the_last_acceptance_moves_the_money_once(
        self, proposed, as_freelancer, as_client
    ):
        as_freelancer.post(url(proposed, "resolution/accept/"))
        rows = ledger_rows()
        headers = {"Idempotency-Key": "accept-resolution"}

        first = as_client.post(url(proposed, "resolution/accept/"), headers=headers)
        replay = as_client.post(url(proposed, "resolution/accept/"), headers=headers)

        assert first.status_code == replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json()["status"] == "CLOSED"
        assert ledger_rows() == rows + 1


# --- Extending a deadline -----------------------------------------------------------------------


class TestDisputeExtend:
    def test_moves_the_parties_deadline_and_tells_both_why(
        self, proposed, as_agent, as_client, as_freelancer
    ):
        new_due = proposed.response_due_at + timedelta(days=1)

        response = as_agent.post(
            url(proposed, "extend/"),
            {"due_at": utc(new_due), "reason": "The client is travelling."},
        )

        assert response.status_code == 200, response.content
        assert response.json()["deadline"]["due_at"] == utc(new_due)
        assert response.json()["deadline"]["party"] == "parties"
        for api in (as_client, as_freelancer):
            events = api.get(url(proposed, "timeline/")).json()["results"]
            assert events[-1]["kind"] == "DEADLINE_EXTENDED"
            assert events[-1]["note"].endswith("The client is travelling.")
            assert events[-1]["deadline"]["due_at"] == utc(new_due)

    def test_reads_a_time_without_an_offset_as_utc(self, proposed, as_agent):
        new_due = proposed.response_due_at + timedelta(days=1)

        response = as_agent.post(
            url(proposed, "extend/"),
            {"due_at": new_due.replace(tzinfo=None).isoformat(), "reason": "Travelling."},
        )

        assert response.status_code == 200, response.content
        proposed.refresh_from_db()
        assert proposed.response_due_at == new_due

    @pytest.mark.parametrize("who", ["as_client", "as_freelancer", "as_arbitrator"])
    def test_is_forbidden_to_anyone_but_a_mediation_agent(self, request, proposed, who):
        due = proposed.response_due_at

        response = request.getfixturevalue(who).post(
            url(proposed, "extend/"),
            {"due_at": utc(due + timedelta(days=1)), "reason": "Please."},
        )

        assert_error(response, 403, "not_allowed")
        proposed.refresh_from_db()
        assert proposed.response_due_at == due

    def test_requires_a_reason(self, proposed, as_agent):
        due = proposed.response_due_at + timedelta(days=1)

        error = assert_error(
            as_agent.post(url(proposed, "extend/"), {"due_at": utc(due)}), 400, "invalid"
        )

        assert set(error["fields"]) == {"reason"}

    def test_refuses_a_time_that_is_not_later(self, proposed, as_agent):
        due = proposed.response_due_at

        response = as_agent.post(
            url(proposed, "extend/"), {"due_at": utc(due - timedelta(hours=1)), "reason": "No."}
        )

        error = assert_error(response, 400, "invalid_due_at")
        assert set(error["fields"]) == {"due_at"}
        proposed.refresh_from_db()
        assert proposed.response_due_at == due

    def test_refuses_a_malformed_time(self, proposed, as_agent):
        response = as_agent.post(url(proposed, "extend/"), {"due_at": "soon", "reason": "No."})

        error = assert_error(response, 400, "invalid")
        assert set(error["fields"]) == {"due_at"}

    def test_refuses_a_deadline_that_has_passed(self, proposed, as_agent):
        due = proposed.response_due_at

        with time_machine.travel(due, tick=False):
            response = as_agent.post(
                url(proposed, "extend/"),
                {"due_at": utc(due + timedelta(days=1)), "reason": "Too late."},
            )

        assert_error(response, 409, "deadline_passed")

    def test_refuses_a_stage_where_no_party_deadline_runs(self, dispute, as_agent):
        response = as_agent.post(
            url(dispute, "extend/"),
            {"due_at": utc(timezone.now() + timedelta(days=3)), "reason": "More time."},
        )

        assert_error(response, 409, "no_deadline")


# --- Internal notes -----------------------------------------------------------------------------


class TestDisputeNotes:
    NOTE = "The client has disputed three contracts this month."

    def test_staff_read_an_agents_note_and_the_parties_never_do(
        self, dispute, as_agent, as_arbitrator, as_client, as_freelancer
    ):
        response = as_agent.post(url(dispute, "notes/"), {"text": self.NOTE})

        assert response.status_code == 201, response.content
        assert response.json()["kind"] == "INTERNAL_NOTE"
        assert response.json()["actor"] == "mia-agent"
        staff_view = as_arbitrator.get(url(dispute, "timeline/")).json()["results"]
        assert staff_view[-1]["note"] == self.NOTE
        for api in (as_client, as_freelancer):
            for path in ("timeline/", "", "evidence/"):
                assert self.NOTE not in api.get(url(dispute, path)).content.decode()

    def test_an_arbitrator_writes_notes_too(self, dispute, as_arbitrator):
        response = as_arbitrator.post(url(dispute, "notes/"), {"text": "Check the invoice."})

        assert response.status_code == 201, response.content

    @pytest.mark.parametrize("who", ["as_client", "as_freelancer"])
    def test_is_forbidden_to_the_parties(self, request, dispute, who):
        response = request.getfixturevalue(who).post(url(dispute, "notes/"), {"text": "Hi."})

        assert_error(response, 403, "not_allowed")
        assert not TimelineEvent.objects.filter(internal=True).exists()

    def test_requires_the_text(self, dispute, as_agent):
        error = assert_error(as_agent.post(url(dispute, "notes/"), {"text": " "}), 400, "invalid")

        assert set(error["fields"]) == {"text"}


# --- Visibility ---------------------------------------------------------------------------------


class TestSomeoneWhoIsNotAParty:
    @pytest.mark.parametrize(
        ("action", "data"),
        [
            ("resolution/", split()),
            ("resolution/accept/", None),
            ("resolution/reject/", None),
            ("extend/", {"due_at": "2099-01-01T00:00:00Z", "reason": "Because."}),
            ("notes/", {"text": "Hello."}),
        ],
    )
    def test_finds_nothing_and_changes_nothing(self, proposed, as_stranger, action, data):
        rows, events = ledger_rows(), TimelineEvent.objects.count()

        response = as_stranger.post(url(proposed, action), data)

        assert_error(response, 404, "not_found")
        assert ledger_rows() == rows
        assert TimelineEvent.objects.count() == events
        assert Resolution.objects.get().status == "PROPOSED"


class TestSchema:
    def test_documents_the_mediation_endpoints_and_the_parties_deadline(self, db):
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()

        assert {
            "/api/v1/disputes/{id}/resolution/",
            "/api/v1/disputes/{id}/resolution/accept/",
            "/api/v1/disputes/{id}/resolution/reject/",
            "/api/v1/disputes/{id}/extend/",
            "/api/v1/disputes/{id}/notes/",
        } <= set(schema["paths"])
        components = schema["components"]["schemas"]
        assert "parties" in components["PartyEnum"]["enum"]
        dispute = components["Dispute"]["properties"]
        assert dispute["resolution"]["allOf"] == [{"$ref": "#/components/schemas/Resolution"}]
