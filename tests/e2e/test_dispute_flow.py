import hashlib
import re

from playwright.sync_api import expect

from tests.kit import PASSWORD, end_contract, make_milestone

from .conftest import log_in, make_contract

PDF = b"%PDF-1.4\n% delivery report\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


class TestFreelancerDisputesAndClientDeclines:
    def test_both_see_the_filing_the_evidence_and_the_decline_on_the_timeline(self, page):
        refund = end_contract(make_contract(), paid="200.00", amount="500.00")
        timeline = page.get_by_test_id("timeline")

        log_in(page, "frank", PASSWORD)
        page.get_by_role("link", name="See Request").click()
        expect(page.get_by_test_id("refund-amount")).to_have_text("300.00 USD")
        page.get_by_role("link", name="Dispute", exact=True).click()

        page.get_by_label("2 – Poor").check()
        page.get_by_label("Your feedback on the client").fill("Stopped answering after delivery.")
        page.get_by_role("button", name="Save and continue").click()

        page.get_by_label("Reason for the dispute").select_option(label="Non-payment")
        page.get_by_label("The milestone agreements and how you met them").fill(
            "Five pages were agreed; all five were delivered on time."
        )
        page.get_by_label("Evidence files").set_input_files(
            files=[{"name": "delivery.pdf", "mimeType": "application/pdf", "buffer": PDF}]
        )
        page.get_by_role("button", name="Continue").click()
        expect(page.get_by_role("status")).to_contain_text("Details saved with 1 file attached")

        page.get_by_label("Amount to review (USD)").fill("250.00")
        page.get_by_role("button", name="Continue to review").click()
        expect(page.get_by_test_id("disputed-amount")).to_have_text("250.00 USD")
        page.get_by_role("button", name="Submit Dispute").click()

        expect(page.get_by_role("status")).to_contain_text("Dispute submitted.")
        expect(page.get_by_test_id("dispute-status")).to_have_text("Waiting for the client")
        page.get_by_role("button", name="Log out").click()

        log_in(page, "carol", PASSWORD)
        page.get_by_role("link", name="Answer dispute").click()
        expect(page.get_by_test_id("feedback")).to_contain_text("stays hidden")
        page.get_by_label("Why you decline").fill("Only three of the five pages were usable.")
        page.get_by_role("button", name="Decline dispute").click()

        expect(page.get_by_role("status")).to_contain_text("You declined the dispute.")
        expect(page.get_by_test_id("dispute-status")).to_have_text("In mediation")
        sha = hashlib.sha256(PDF).hexdigest()
        for party in ("carol", "frank"):
            if party == "frank":
                page.get_by_role("button", name="Log out").click()
                log_in(page, "frank", PASSWORD)
                page.goto(refund.dispute.get_absolute_url())
            expect(timeline).to_contain_text("Dispute filed")
            expect(timeline).to_contain_text(f"SHA-256 {sha}")
            expect(timeline).to_contain_text("Dispute declined by the client")
            expect(timeline).to_contain_text("Only three of the five pages were usable.")
            expect(page.get_by_test_id("evidence")).to_contain_text(sha)


class TestClientEndsAContract:
    def test_the_client_pays_part_and_sees_the_refund_request(self, page):
        contract = make_contract()
        milestone = make_milestone(contract, title="Design", amount="500.00", funded=True)
        script_errors = []
        page.on("pageerror", lambda error: script_errors.append(error))

        log_in(page, "carol", PASSWORD)
        page.goto(contract.get_absolute_url())
        page.get_by_role("link", name="End contract").click()
        page.get_by_label("Pay now for “Design” (USD)").fill("200.00")
        page.get_by_role("button", name="End contract").click()

        expect(page.get_by_role("status")).to_contain_text(
            "300.00 USD of “Design” is asked back as a refund"
        )
        card = page.locator(f"#milestone-{milestone.pk}")
        expect(card.get_by_test_id("milestone-status")).to_have_text("Held for a refund request")
        page.get_by_role("status").get_by_role("link", name="See Request").click()

        expect(page).to_have_url(re.compile(r"/refund-requests/\d+/$"))
        expect(page.get_by_test_id("refund-amount")).to_have_text("300.00 USD")
        expect(page.get_by_test_id("refund-status")).to_have_text("Waiting for the freelancer")
        deadline = page.get_by_test_id("deadline")
        expect(deadline).to_contain_text("in 6 days, 23 hours")
        expect(deadline.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "0")
        assert script_errors == []
