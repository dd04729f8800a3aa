"""A settlement in Chromium: the freelancer offers, the client counters, the freelancer accepts,
and both see the money moved. The client's side runs with JavaScript off: plain forms."""

from playwright.sync_api import expect

from tests.e2e.conftest import log_in, make_contract
from tests.kit import PASSWORD, dispute_at


def offer(page, to_freelancer: str, to_client: str, message: str) -> None:
    panel = page.get_by_test_id("offers")
    panel.get_by_label("To the freelancer (USD)").fill(to_freelancer)
    panel.get_by_label("Refunded to the client (USD)").fill(to_client)
    panel.get_by_label("Message (optional)").fill(message)
    panel.get_by_role("button", name="Send offer").click()


class TestSettlingByOffers:
    def test_the_freelancer_offers_the_client_counters_and_the_freelancer_accepts(
        self, page, chromium, live_server
    ):
        contract = make_contract()
        dispute = dispute_at("filed", contract)  # R = 300.00 USD

        # The freelancer offers 250 / 50.
        log_in(page, "frank", PASSWORD)
        page.goto(dispute.get_absolute_url())
        offer(page, "250.00", "50.00", "Most of it was delivered.")
        expect(page.locator(".messages")).to_contain_text("Your offer is sent")
        expect(page.get_by_test_id("my-offer")).to_contain_text("250.00 USD")

        # The client, without JavaScript, sees it and counters with 150 / 150.
        no_js = chromium.new_context(base_url=live_server.url, java_script_enabled=False)
        client_page = no_js.new_page()
        log_in(client_page, "carol", PASSWORD)
        client_page.goto(dispute.get_absolute_url())
        theirs = client_page.get_by_test_id("their-offer")
        expect(theirs).to_contain_text("250.00 USD")
        expect(theirs).to_contain_text("Most of it was delivered.")
        expect(client_page.get_by_role("button", name="Accept offer")).to_be_visible()
        expect(client_page.get_by_role("button", name="Decline offer")).to_be_visible()
        client_page.get_by_role("link", name="Make a counter-offer").click()
        offer(client_page, "150.00", "150.00", "Half each.")
        expect(client_page.get_by_test_id("my-offer")).to_contain_text("150.00 USD")

        # The freelancer accepts the counter-offer.
        page.reload()
        expect(page.get_by_test_id("their-offer")).to_contain_text("Half each.")
        page.get_by_role("button", name="Accept offer").click()
        expect(page.get_by_test_id("dispute-status")).to_have_text("Closed")
        expect(page.locator("body")).to_contain_text("The money moved")
        expect(page.locator(".summary")).to_contain_text("Paid to the freelancer")
        expect(page.locator(".summary")).to_contain_text("150.00 USD")

        # The client sees the money moved too.
        client_page.reload()
        expect(client_page.get_by_test_id("dispute-status")).to_have_text("Closed")
        expect(client_page.locator("body")).to_contain_text("settled by the parties")
        expect(client_page.locator(".summary")).to_contain_text("Refunded to the client")
        history = client_page.get_by_test_id("offer-history")
        expect(history).to_contain_text("Accepted")
        expect(history).to_contain_text("Lapsed")  # the freelancer's first offer
        no_js.close()
