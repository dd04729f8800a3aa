"""Pages that follow their deadline: an open page changes by itself, without a reload.

The pages poll every second here (``LIVE_POLL_SECONDS``); a mark left on ``window`` before the
change is still there after it, so the page was never reloaded.
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone
from playwright.sync_api import expect

from contracts import services as contracts
from disputes import services as disputes
from tests.kit import PASSWORD, end_contract, file_dispute, make_milestone

from .conftest import log_in, make_contract


@pytest.fixture(autouse=True)
def poll_every_second(settings):
    settings.LIVE_POLL_SECONDS = 1


def mark(page) -> None:
    page.evaluate("window.notReloaded = true")


def assert_not_reloaded(page) -> None:
    assert page.evaluate("window.notReloaded === true")


class TestSeeDispute:
    def test_shows_the_clients_answer_while_the_freelancer_looks(self, page):
        contract = make_contract()
        dispute = file_dispute(end_contract(contract), amount="250.00")
        log_in(page, "frank", PASSWORD)
        page.goto(dispute.get_absolute_url())
        expect(page.get_by_test_id("dispute-status")).to_have_text("Waiting for the client")
        mark(page)

        disputes.dispute_accept(dispute=dispute, actor=contract.client, now=timezone.now())

        expect(page.get_by_test_id("dispute-status")).to_have_text("Closed")
        expect(page.get_by_test_id("live-moved")).to_contain_text("Reload the page")
        expect(page.locator("#stage-notice")).to_contain_text("the client accepted the dispute")
        expect(page.get_by_test_id("deadline")).to_have_count(0)
        assert_not_reloaded(page)


class TestSeeRequest:
    def test_the_countdown_ticks_every_second_near_the_end_then_the_card_says_time_is_up(
        self, page
    ):
        period = django_settings.REFUND_REQUEST_RESPONSE_PERIOD
        refund = end_contract(make_contract(), now=timezone.now() - period + timedelta(seconds=6))
        log_in(page, "frank", PASSWORD)
        page.goto(refund.get_absolute_url())
        countdown = page.get_by_test_id("deadline").locator("time[data-countdown]")
        expect(countdown).to_have_text(re.compile(r"^in [1-6] seconds?$"))
        first = countdown.text_content()
        mark(page)

        expect(countdown).not_to_have_text(first, timeout=2_500)

        expect(page.get_by_test_id("deadline")).to_contain_text("the time is up", timeout=10_000)
        assert_not_reloaded(page)


class TestContractHistory:
    def test_shows_submitted_work_while_the_client_looks(self, page):
        contract = make_contract()
        milestone = make_milestone(contract, title="Design", funded=True)
        log_in(page, "carol", PASSWORD)
        row = page.get_by_role("row").filter(has_text="Design")
        expect(row).to_contain_text("Funded")
        mark(page)

        contracts.milestone_submit(
            milestone=milestone, actor=contract.freelancer, message="Done.", now=timezone.now()
        )

        expect(row).to_contain_text("Work submitted")
        assert_not_reloaded(page)
