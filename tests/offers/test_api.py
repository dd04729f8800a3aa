"""The REST API of settlement offers, as API.md lays it out."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from offers.models import Offer
from tests import kit
from tests.kit import api_as, assert_error, balances, ledger_rows, utc

pytestmark = pytest.mark.django_db

FIELDS = {
    "id",
    "by",
    "to_freelancer",
    "to_client",
    "message",
    "status",
    "created_at",
    "expires_at",
    "answered_at",
}


@pytest.fixture
def dispute(contract):
    """R = 300.00 (500 funded, 200 paid), D = 250.00, waiting for the client."""
    return kit.dispute_at("filed", contract)


def make(api, dispute, to_freelancer="180.00", to_client="120.00", **extra):
    return api.post(
        kit.url(dispute, "offers/"),
        {"to_freelancer": to_freelancer, "to_client": to_client, **extra},
        format="json",
    )


def act(api, offer_id: int, action: str, **kwargs):
    return api.post(f"/api/v1/offers/{offer_id}/{action}/", format="json", **kwargs)


class TestMakeAndList:
    def test_a_party_offers_and_gets_201_with_the_offer(self, as_freelancer, dispute):
        response = make(as_freelancer, dispute, message="Meet me here.")

        assert response.status_code == 201, response.content
        body = response.json()
        assert set(body) >= FIELDS
        offer = Offer.objects.get()
        assert body["id"] == offer.pk
        assert body["by"] == "freelancer"
        assert (body["to_freelancer"], body["to_client"]) == ("180.00", "120.00")
        assert body["currency"] == "USD"
        assert body["status"] == "OPEN"
        assert body["message"] == "Meet me here."
        assert body["created_at"] == utc(offer.created_at)
        assert body["expires_at"] == utc(offer.response_due_at)
        assert body["answered_at"] is None
        assert body["deadline"] == {
            "kind": "offer_response",
            "due_at": utc(offer.response_due_at),
            "party": "client",
        }

    def test_the_list_is_paginated_oldest_first_for_parties_and_staff(
        self, as_freelancer, as_client, as_agent, dispute
    ):
        first = make(as_freelancer, dispute).json()
        second = make(as_client, dispute, "100.00", "200.00").json()

        for api in (as_freelancer, as_client, as_agent):
            listed = api.get(kit.url(dispute, "offers/"))
            assert listed.status_code == 200
            body = listed.json()
            assert set(body) == {"count", "next", "previous", "results"}
            assert [o["id"] for o in body["results"]] == [first["id"], second["id"]]
            assert [o["by"] for o in body["results"]] == ["freelancer", "client"]

    def test_a_stranger_gets_404(self, stranger, dispute, as_freelancer):
        make(as_freelancer, dispute)

        assert_error(api_as(stranger).get(kit.url(dispute, "offers/")), 404, "not_found")
        assert_error(make(api_as(stranger), dispute), 404, "not_found")

    def test_staff_may_read_but_not_offer(self, as_agent, dispute):
        assert_error(make(as_agent, dispute), 403, "not_allowed")
        assert not Offer.objects.exists()

    @pytest.mark.parametrize(
        "body,code,field",
        [
            ({"to_freelancer": "200.00", "to_client": "200.00"}, "split_mismatch", "to_client"),
            ({"to_freelancer": "-1.00", "to_client": "301.00"}, "invalid_amount", "to_freelancer"),
            ({"to_freelancer": 150, "to_client": "150.00"}, "invalid_amount", "to_freelancer"),
            ({"to_freelancer": "150.00"}, "required", "to_client"),
        ],
    )
    def test_bad_input_is_400_and_nothing_is_made(self, as_client, dispute, body, code, field):
        response = as_client.post(kit.url(dispute, "offers/"), body, format="json")

        error = assert_error(response, 400, code)
        assert field in error["fields"]
        assert not Offer.objects.exists()

    def test_after_the_dispute_closed_it_is_409(self, as_client, as_freelancer, dispute):
        as_client.post(kit.url(dispute, "accept/"))

        assert_error(make(as_freelancer, dispute), 409, "illegal_transition")


class TestAccept:
    def test_moves_the_money_once_with_an_idempotency_key(self, as_client, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]
        headers = {"Idempotency-Key": "settle-7"}
        before = ledger_rows()

        first = act(as_client, offer_id, "accept", headers=headers)
        after_first = ledger_rows()
        replay = act(as_client, offer_id, "accept", headers=headers)

        assert first.status_code == replay.status_code == 200, first.content
        assert first.json()["status"] == "ACCEPTED"
        assert first.json()["answered_at"] is not None
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert after_first == before + 1
        assert ledger_rows() == after_first
        assert balances(as_freelancer) == {"EARNINGS": "380.00"}
        detail = as_client.get(kit.url(dispute)).json()
        assert (detail["status"], detail["outcome"]) == ("CLOSED", "SETTLED")

    def test_the_same_key_with_another_offer_is_409(self, as_client, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]
        other = make(as_client, dispute, "100.00", "200.00").json()["id"]
        headers = {"Idempotency-Key": "settle-8"}
        act(as_client, offer_id, "accept", headers=headers)

        response = act(as_client, other, "accept", headers=headers)

        assert_error(response, 409, "idempotency_key_reused")

    def test_accepting_ones_own_offer_is_403(self, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]
        rows = ledger_rows()

        assert_error(act(as_freelancer, offer_id, "accept"), 403, "own_offer")
        assert ledger_rows() == rows
        assert Offer.objects.get().status == "OPEN"

    def test_a_stranger_gets_404_and_staff_403(self, stranger, as_agent, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]

        assert_error(act(api_as(stranger), offer_id, "accept"), 404, "not_found")
        assert_error(act(as_agent, offer_id, "accept"), 403, "not_allowed")
        assert Offer.objects.get().status == "OPEN"

    def test_at_expires_at_it_is_409_deadline_passed_and_the_offer_lapsed(
        self, as_client, as_freelancer, dispute
    ):
        offer_id = make(as_freelancer, dispute).json()["id"]
        offer = Offer.objects.get()
        rows = ledger_rows()

        with time_machine.travel(offer.response_due_at, tick=False):
            response = act(as_client, offer_id, "accept")

        assert_error(response, 409, "deadline_passed")
        assert Offer.objects.get().status == "LAPSED"
        assert ledger_rows() == rows

    def test_one_microsecond_before_expires_at_it_is_accepted(
        self, as_client, as_freelancer, dispute
    ):
        offer_id = make(as_freelancer, dispute).json()["id"]
        offer = Offer.objects.get()

        with time_machine.travel(offer.response_due_at - timedelta(microseconds=1), tick=False):
            response = act(as_client, offer_id, "accept")

        assert response.status_code == 200, response.content


class TestDeclineAndWithdraw:
    def test_the_other_party_declines_with_a_reason(self, as_client, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]

        response = act(as_client, offer_id, "decline", data={"reason": "Too much."})

        assert response.status_code == 200, response.content
        assert (response.json()["status"], response.json()["reason"]) == ("DECLINED", "Too much.")

    def test_the_maker_withdraws_without_a_reason(self, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]

        response = act(as_freelancer, offer_id, "withdraw")

        assert response.status_code == 200, response.content
        assert response.json()["status"] == "WITHDRAWN"

    def test_the_maker_may_not_decline_nor_the_other_party_withdraw(
        self, as_client, as_freelancer, dispute
    ):
        offer_id = make(as_freelancer, dispute).json()["id"]

        assert_error(act(as_freelancer, offer_id, "decline"), 403, "own_offer")
        assert_error(act(as_client, offer_id, "withdraw"), 403, "not_your_offer")
        assert Offer.objects.get().status == "OPEN"

    def test_answering_a_withdrawn_offer_is_409(self, as_client, as_freelancer, dispute):
        offer_id = make(as_freelancer, dispute).json()["id"]
        act(as_freelancer, offer_id, "withdraw")

        for action in ("accept", "decline"):
            assert_error(act(as_client, offer_id, action), 409, "illegal_transition")
        assert Offer.objects.get().status == "WITHDRAWN"


def test_the_timeline_shows_each_offer_and_answer_with_amounts_and_actor(
    as_client, as_freelancer, dispute
):
    offer_id = make(as_freelancer, dispute).json()["id"]
    act(as_client, offer_id, "accept")

    events = as_client.get(kit.url(dispute, "timeline/")).json()["results"]

    made = next(e for e in events if e["kind"] == "OFFER_MADE")
    accepted = next(e for e in events if e["kind"] == "OFFER_ACCEPTED")
    assert made["actor"] == dispute.refund_request.contract.freelancer.username
    assert made["amounts"] == {"to_freelancer": "180.00", "to_client": "120.00"}
    assert accepted["actor"] == dispute.refund_request.contract.client.username
    assert any(e["kind"] == "SETTLED" for e in events)


def test_the_schema_documents_the_offer_endpoints(db):
    from drf_spectacular.generators import SchemaGenerator

    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]

    assert set(paths["/api/v1/disputes/{id}/offers/"]) >= {"get", "post"}
    for action in ("accept", "decline", "withdraw"):
        assert "post" in paths[f"/api/v1/offers/{{id}}/{action}/"]
    accept = paths["/api/v1/offers/{id}/accept/"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in accept["parameters"])


def test_offer_events_reach_both_parties_with_the_offer(as_client, as_freelancer, dispute):
    from webhooks.models import Event

    offer_id = make(as_freelancer, dispute).json()["id"]
    act(as_client, offer_id, "accept")

    accepted = Event.objects.filter(type="offer.accepted", subject_id=offer_id)
    assert accepted.count() == 2
    assert {e.data["status"] for e in accepted} == {"ACCEPTED"}


class TestTheDisputesArbitrationAfterASettlement:
    def test_a_fee_refunded_in_the_window_still_shows(
        self, contract, agent, as_client, as_freelancer, arbitration_fee_of_50
    ):
        from arbitration import services as arbitration

        dispute = kit.dispute_at("window", contract, agent=agent)
        arbitration.arbitration_fee_pay(
            dispute=dispute, actor=contract.freelancer, now=kit.timezone.now()
        )
        offer_id = make(as_client, dispute).json()["id"]

        act(as_freelancer, offer_id, "accept")

        shown = as_freelancer.get(kit.url(dispute)).json()
        assert shown["outcome"] == "SETTLED"
        assert shown["arbitration"]["fees"]["freelancer"]["refunded"] is True

    def test_a_settlement_before_any_fee_shows_no_arbitration(
        self, as_client, as_freelancer, dispute
    ):
        offer_id = make(as_freelancer, dispute).json()["id"]

        act(as_client, offer_id, "accept")

        assert as_client.get(kit.url(dispute)).json()["arbitration"] is None
