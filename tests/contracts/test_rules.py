"""The rules of a milestone's money, through every door: service, API, browser and sweep.

Money held for a refund request moves only by that request's outcome; and a deadline decides
even before its sweep runs: the client who acts after the auto-release fell due finds the work
released to the freelancer, never refunded.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from contracts import services
from contracts.models import Contract, ContractEvent, Milestone
from core import deadlines
from core.errors import DeadlineSettled, IllegalTransition
from disputes.models import RefundRequest
from tests.kit import (
    api_as,
    assert_error,
    books,
    browser_for,
    followed_messages,
    ledger_rows,
    reload,
    submitted,
)

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 3, 2, 9, 0, tzinfo=timezone.UTC)
DUE = START + timedelta(days=14)


@pytest.fixture
def held(contract):
    """500 funded and submitted; the client ended paying 100: 400 held for a refund request."""
    milestone = submitted(contract, now=START)
    from disputes import services as disputes

    (request,) = disputes.contract_end(
        contract=contract, actor=contract.client, payments={milestone.pk: "100.00"}, now=START
    )
    return reload(milestone), request


class TestHeldMoneyCannotBeReleased:
    def test_the_service_refuses_it_and_moves_nothing(self, contract, held):
        milestone, _ = held
        rows = ledger_rows()

        with pytest.raises(IllegalTransition):
            services.milestone_release(
                milestone=milestone, actor=contract.client, now=START + timedelta(hours=1)
            )

        assert ledger_rows() == rows
        assert reload(milestone).escrow_balance == Decimal("400.00")

    @pytest.mark.parametrize("body", [{}, {"amount": "100.00"}], ids=["all", "part"])
    def test_the_api_refuses_it_with_or_without_an_amount(self, contract, held, body):
        milestone, _ = held
        rows = ledger_rows()

        with time_machine.travel(START + timedelta(hours=1), tick=False):
            response = api_as(contract.client).post(
                f"/api/v1/milestones/{milestone.pk}/release/", body, format="json"
            )

        assert_error(response, 409, "illegal_transition")
        assert ledger_rows() == rows
        assert reload(milestone).status == Milestone.Status.HELD

    def test_the_browser_refuses_it_with_a_message(self, contract, held):
        milestone, _ = held
        browser = browser_for(contract.client)

        with time_machine.travel(START + timedelta(hours=1), tick=False):
            response = browser.post(f"/milestones/{milestone.pk}/release/", {"amount": ""})
            shown = followed_messages(browser, response)

        assert shown == ["This milestone is held; it cannot become released."]
        assert reload(milestone).escrow_balance == Decimal("400.00")

    def test_the_refund_request_still_settles_at_its_deadline(self, contract, held):
        milestone, request = held
        with time_machine.travel(START + timedelta(hours=1), tick=False):
            api_as(contract.client).post(f"/api/v1/milestones/{milestone.pk}/release/", {})

        counts = deadlines.enforce_deadlines(now=request.response_due_at)

        request.refresh_from_db()
        assert counts["disputes.refund_requests_expire"] == 1
        assert request.status == RefundRequest.Status.EXPIRED
        assert reload(milestone).status == Milestone.Status.REFUNDED
        assert books(contract) == {
            "client paid in": Decimal("500.00"),
            "client refunded": Decimal("400.00"),
            "freelancer earned": Decimal("100.00"),
            "escrow": Decimal("0.00"),
        }
        call_command("check_ledger")


class TestEndingAfterTheAutoReleaseFellDue:
    """The sweep has not run yet; the client ends the contract asking money back."""

    def test_the_service_releases_that_milestone_to_the_freelancer_in_full(self, contract):
        milestone = submitted(contract, now=START)

        held = services.contract_end(
            contract=contract,
            actor=contract.client,
            payments={milestone.pk: "100.00"},
            now=DUE + timedelta(hours=1),
        )

        assert held == []
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert not RefundRequest.objects.exists()
        assert books(contract)["freelancer earned"] == Decimal("500.00")
        assert Contract.objects.get(pk=contract.pk).status == Contract.Status.ENDED
        kinds = list(ContractEvent.objects.order_by("pk").values_list("kind", "actor"))
        assert (ContractEvent.Kind.AUTO_RELEASED, None) in kinds
        assert kinds[-1] == (ContractEvent.Kind.CONTRACT_ENDED, contract.client_id)

    def test_one_microsecond_before_it_the_client_may_still_ask_money_back(self, contract):
        milestone = submitted(contract, now=START)

        (held,) = services.contract_end(
            contract=contract,
            actor=contract.client,
            payments={milestone.pk: "100.00"},
            now=DUE - timedelta(microseconds=1),
        )

        assert held.remaining == Decimal("400.00")
        assert reload(milestone).status == Milestone.Status.HELD

    def test_the_api_ends_the_contract_and_the_freelancer_gets_everything(self, contract):
        milestone = submitted(contract, now=START)

        with time_machine.travel(DUE + timedelta(hours=1), tick=False):
            response = api_as(contract.client).post(
                f"/api/v1/contracts/{contract.pk}/end/",
                {"payments": [{"milestone": milestone.pk, "amount": "0.00"}]},
                format="json",
            )

        assert response.status_code == 200, response.content
        assert response.json()["refund_requests"] == []
        assert books(contract)["freelancer earned"] == Decimal("500.00")
        assert books(contract)["client refunded"] == Decimal("0.00")

    def test_the_browser_ends_the_contract_and_the_freelancer_gets_everything(self, contract):
        milestone = submitted(contract, now=START)
        browser = browser_for(contract.client)

        with time_machine.travel(DUE + timedelta(hours=1), tick=False):
            response = browser.post(
                f"/contracts/{contract.pk}/end/", {f"payment_{milestone.pk}": "0"}
            )

        assert response.status_code == 302
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert books(contract)["freelancer earned"] == Decimal("500.00")
        assert not RefundRequest.objects.exists()


class TestReleasingAfterTheAutoReleaseFellDue:
    def test_the_service_refuses_after_the_deadline_released_the_work(self, contract):
        milestone = submitted(contract, now=START)

        with pytest.raises(DeadlineSettled) as refused:
            services.milestone_release(
                milestone=milestone, actor=contract.client, amount="100.00", now=DUE
            )

        assert refused.value.code == "deadline_passed"
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert books(contract)["freelancer earned"] == Decimal("500.00")

    def test_the_api_answers_409_and_the_deadline_has_applied(self, contract):
        milestone = submitted(contract, now=START)

        with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
            response = api_as(contract.client).post(
                f"/api/v1/milestones/{milestone.pk}/release/",
                {"amount": "100.00"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="late-release",
            )

        assert_error(response, 409, "deadline_passed")
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert books(contract)["freelancer earned"] == Decimal("500.00")
        call_command("check_ledger")

    def test_the_sweep_later_finds_nothing_left_to_do(self, contract):
        milestone = submitted(contract, now=START)
        with pytest.raises(DeadlineSettled):
            services.milestone_release(milestone=milestone, actor=contract.client, now=DUE)
        rows = ledger_rows()

        counts = deadlines.enforce_deadlines(now=DUE + timedelta(minutes=1))

        assert counts["contracts.auto_release"] == 0
        assert ledger_rows() == rows

    def test_the_browser_says_so_and_the_deadline_has_applied(self, contract):
        milestone = submitted(contract, now=START)
        browser = browser_for(contract.client)

        with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
            response = browser.post(f"/milestones/{milestone.pk}/release/", {"amount": "100"})
            shown = followed_messages(browser, response)

        assert shown[0].startswith("The deadline to release this payment passed on ")
        assert "released to the freelancer automatically" in shown[0]
        assert reload(milestone).status == Milestone.Status.RELEASED
        assert books(contract)["freelancer earned"] == Decimal("500.00")


class TestTheContractsOwnTimeline:
    def test_the_contract_page_shows_every_step_with_who_took_it(self, client_user, freelancer):
        contract = services.contract_create(
            client=client_user, freelancer=freelancer, title="Site", currency="USD", now=START
        )
        milestone = submitted(contract, now=START)
        services.milestone_release(
            milestone=milestone, actor=contract.client, amount="100.00", now=START
        )

        page = browser_for(contract.freelancer).get(f"/contracts/{contract.pk}/")

        kinds = [event.kind for event in page.context["activity"]]
        assert kinds == [
            ContractEvent.Kind.CONTRACT_CREATED,
            ContractEvent.Kind.MILESTONE_ADDED,
            ContractEvent.Kind.MILESTONE_FUNDED,
            ContractEvent.Kind.WORK_SUBMITTED,
            ContractEvent.Kind.PAYMENT_RELEASED,
        ]
        html = page.content.decode()
        assert "Payment released" in html
        assert f"{contract.client} released 100.00 USD" in html

    def test_a_release_by_the_deadline_is_the_systems(self, contract):
        milestone = submitted(contract, now=START)

        deadlines.enforce_deadlines(now=DUE)

        event = ContractEvent.objects.get(kind=ContractEvent.Kind.AUTO_RELEASED)
        assert (event.milestone_id, event.actor) == (milestone.pk, None)
        assert event.amounts == {"released": "500.00"}


class TestHugeAmounts:
    @pytest.mark.parametrize("path", ["release/", None], ids=["release", "new milestone"])
    def test_are_bad_input_not_a_server_error(self, contract, path):
        milestone = submitted(contract, now=START)
        huge = {"amount": "1" + "0" * 30}
        api = api_as(contract.client)

        with time_machine.travel(START + timedelta(hours=1), tick=False):
            if path:
                response = api.post(f"/api/v1/milestones/{milestone.pk}/{path}", huge)
            else:
                response = api.post(
                    f"/api/v1/contracts/{contract.pk}/milestones/", {"title": "More", **huge}
                )

        assert_error(response, 400, "invalid_amount")


class TestReplayingALateRequest:
    def test_the_same_key_gets_the_same_409(self, contract):
        milestone = submitted(contract, now=START)
        api = api_as(contract.client)
        url = f"/api/v1/milestones/{milestone.pk}/release/"

        with time_machine.travel(DUE + timedelta(minutes=1), tick=False):
            first = api.post(url, {"amount": "100.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
            replay = api.post(url, {"amount": "100.00"}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

        assert_error(first, 409, "deadline_passed")
        assert replay.status_code == 409
        assert replay.json() == first.json()
        assert replay["Idempotent-Replayed"] == "true"
        assert books(contract)["freelancer earned"] == Decimal("500.00")
