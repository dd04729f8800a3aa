"""From a proposed resolution to a final award, each person in their own browser.

The story: the client funded 500, ended the contract paying 200 (R = 300), the freelancer
disputed 250 and the client declined. A mediation agent proposes 180 / 120 in the admin; the
freelancer accepts and the client rejects; both see the Notice of Non-Resolution, both pay the
50.00 fee, and the arbitrator's award of 200 / 100 appears on both parties' See Dispute pages.
"""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from contracts.models import Account
from disputes.models import Dispute
from tests.kit import PASSWORD, ContractFactory, UserFactory, declined_dispute, staff_member

from .conftest import log_in


@pytest.fixture
def browsers(chromium, live_server):
    """Open a separate browser for each person, as each would use their own."""
    contexts = []

    def open_for(username: str, *, admin: bool = False):
        context = chromium.new_context(
            base_url=live_server.url, viewport={"width": 1200, "height": 900}
        )
        context.set_default_timeout(5_000)
        contexts.append(context)
        page = context.new_page()
        if admin:
            page.goto("/admin/")
            page.get_by_label("Username").fill(username)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_url("**/admin/")
        else:
            log_in(page, username, PASSWORD)
        return page

    yield open_for
    for context in contexts:
        context.close()


class TestFromAProposedResolutionToAnAward:
    def test_the_freelancer_accepts_the_client_rejects_both_pay_and_the_award_moves_the_money(
        self, browsers, settings
    ):
        settings.ARBITRATION_FEE_FIXED = "50.00"
        settings.ARBITRATION_FEE_PERCENT = "0"
        staff_member(Role.MEDIATION_AGENT, "mia")
        staff_member(Role.ARBITRATOR, "art")
        contract = ContractFactory(
            client=UserFactory(username="carol"),
            freelancer=UserFactory(username="frank"),
            title="Website redesign",
        )
        dispute = declined_dispute(contract)

        # The agent proposes 180 / 120 from the mediation queue.
        agent = browsers("mia", admin=True)
        agent.get_by_role("link", name="Mediation queue").first.click()
        agent.locator("#result_list tbody tr").filter(has_text="Website redesign").get_by_role(
            "link", name=str(dispute)
        ).click()
        agent.get_by_label("To the freelancer (USD)").fill("180.00")
        agent.get_by_label("To the client (USD)").fill("120.00")
        agent.get_by_label("Rationale").fill("Four of the five pages were delivered.")
        agent.get_by_role("button", name="Propose resolution").click()
        expect(agent.locator(".messagelist")).to_contain_text("Resolution proposed")

        # The freelancer accepts it.
        frank = browsers("frank")
        frank.get_by_role("link", name="Answer the proposed resolution").click()
        resolution = frank.get_by_test_id("resolution")
        expect(resolution.get_by_test_id("resolution-split")).to_contain_text("180.00 USD")
        expect(resolution.get_by_test_id("rationale")).to_have_text(
            "Four of the five pages were delivered."
        )
        frank.get_by_role("button", name="Accept resolution").click()
        expect(frank.get_by_role("status")).to_contain_text(
            "You accepted the resolution. If carol accepts it too"
        )
        expect(frank.get_by_test_id("deadline")).to_contain_text("waiting for the client")

        # The client sees that and rejects it, after reading what that means.
        carol = browsers("carol")
        carol.get_by_role("link", name="Answer the proposed resolution").click()
        expect(carol.get_by_test_id("resolution-answers")).to_contain_text("Accepted")
        carol.get_by_text("Reject resolution…").click()
        expect(carol.get_by_text("Rejecting leads to a Notice of Non-Resolution")).to_be_visible()
        carol.get_by_role("button", name="Yes, reject the resolution").click()
        expect(carol.get_by_role("status")).to_contain_text("You rejected the proposed resolution.")
        expect(carol.get_by_test_id("dispute-status")).to_have_text(
            "Not resolved: arbitration window open"
        )

        # Both see the notice and the fee; the freelancer pays first, and the client sees it.
        for page in (frank, carol):
            page.reload()
            notice = page.get_by_test_id("non-resolution")
            expect(notice.get_by_test_id("notice-text")).to_contain_text(
                "The client rejected the proposed resolution."
            )
            expect(notice.get_by_test_id("arbitration-fee")).to_have_text("50.00 USD")
        frank.get_by_role("button", name="Agree to arbitration and pay 50.00 USD").click()
        expect(frank.get_by_role("status")).to_contain_text("paid your fee of 50.00 USD")
        carol.reload()
        expect(carol.get_by_test_id("fee-status-freelancer")).to_contain_text("Paid")
        expect(carol.get_by_test_id("fee-status-client")).to_contain_text("Not paid")
        carol.get_by_role("button", name="Agree to arbitration and pay 50.00 USD").click()
        expect(carol.get_by_role("status")).to_contain_text("the arbitration case is open")
        expect(carol.get_by_test_id("arbitrator")).to_have_text("To be assigned")

        # The arbitrator issues the award from the arbitration queue.
        arbitrator = browsers("art", admin=True)
        arbitrator.get_by_role("link", name="Arbitration queue").first.click()
        arbitrator.locator("#result_list tbody tr").filter(has_text="Website redesign").get_by_role(
            "link", name=str(dispute)
        ).click()
        arbitrator.get_by_label("To the freelancer (USD)").fill("200.00")
        arbitrator.get_by_label("To the client (USD)").fill("100.00")
        arbitrator.get_by_label("Reasons").fill("Four pages of five met the brief.")
        arbitrator.get_by_role("button", name="Issue final award").click()
        expect(arbitrator.locator(".messagelist")).to_contain_text("Final award issued")

        # Both parties see the award and the money moved.
        for page in (frank, carol):
            page.reload()
            award = page.get_by_test_id("award")
            expect(award).to_contain_text("final and binding")
            expect(award.get_by_test_id("award-reasons")).to_have_text(
                "Four pages of five met the brief."
            )
            expect(page.get_by_test_id("dispute-status")).to_have_text("Closed")
            expect(page.locator(".summary")).to_contain_text("Paid to the freelancer")
            expect(page.locator(".summary")).to_contain_text("200.00 USD")
            expect(page.locator(".summary")).to_contain_text("100.00 USD")
        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.AWARDED
        assert (dispute.to_freelancer, dispute.to_client) == (Decimal("200.00"), Decimal("100.00"))
        assert dispute.milestone.escrow_account.balance == 0
        assert Account.objects.get(kind=Account.Kind.PLATFORM_FEES).balance == Decimal("100.00")
