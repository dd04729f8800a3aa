import re

from playwright.sync_api import expect

from tests.kit import PASSWORD, make_milestone

from .conftest import log_in, make_contract


class TestClientFundsAMilestone:
    def test_the_escrow_goes_from_nothing_to_the_milestone_amount(self, page):
        contract = make_contract()
        milestone = make_milestone(contract, title="Design", amount="500.00")
        log_in(page, "carol", PASSWORD)

        page.get_by_role("link", name="Website redesign").click()
        card = page.locator(f"#milestone-{milestone.pk}")
        expect(card.get_by_test_id("escrow")).to_have_text("0.00 USD")
        card.get_by_role("button", name="Fund 500.00 USD").click()

        expect(page.get_by_role("status")).to_have_text(
            "Funded 500.00 USD into escrow for “Design”."
        )
        expect(card.get_by_test_id("escrow")).to_have_text("500.00 USD")
        expect(card.get_by_test_id("milestone-status")).to_have_text("Funded")


class TestWorkIsSubmittedAndReleased:
    def test_the_freelancer_submits_and_the_client_releases(self, page):
        contract = make_contract()
        milestone = make_milestone(contract, title="Design", amount="500.00", funded=True)
        card = page.locator(f"#milestone-{milestone.pk}")

        log_in(page, "frank", PASSWORD)
        page.goto(contract.get_absolute_url())
        card.get_by_label("Message to the client").fill("The designs are attached.")
        card.get_by_label("Files").set_input_files(
            files=[{"name": "designs.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n"}]
        )
        card.get_by_role("button", name="Submit work").click()
        expect(page.get_by_role("status")).to_contain_text("Submitted your work for “Design”")
        expect(card.get_by_role("link", name="designs.pdf")).to_be_visible()
        page.get_by_role("button", name="Log out").click()

        log_in(page, "carol", PASSWORD)
        page.goto(contract.get_absolute_url())
        card.get_by_role("button", name="Release payment").click()

        expect(page.get_by_role("status")).to_have_text(
            re.compile(r"Released 500\.00 USD to frank for “Design”\.")
        )
        expect(card.get_by_test_id("milestone-status")).to_have_text("Released")
        expect(card.get_by_test_id("escrow")).to_have_text("0.00 USD")
