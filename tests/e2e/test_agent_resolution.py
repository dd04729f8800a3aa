from playwright.sync_api import expect

from accounts.models import Role
from tests.kit import PASSWORD, ContractFactory, UserFactory, declined_dispute, staff_member


def log_in_to_the_admin(page, username: str, password: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


class TestAgentProposesAResolution:
    def test_from_the_queue_to_a_proposed_resolution(self, page):
        staff_member(Role.MEDIATION_AGENT, "mia")
        contract = ContractFactory(
            client=UserFactory(username="carol"),
            freelancer=UserFactory(username="frank"),
            title="Website redesign",
        )
        dispute = declined_dispute(contract)

        log_in_to_the_admin(page, "mia", PASSWORD)
        page.get_by_role("link", name="Mediation queue").first.click()
        row = page.locator("#result_list tbody tr").filter(has_text="Website redesign")
        expect(row).to_contain_text("frank")
        expect(row).to_contain_text("300.00 USD")
        expect(row).to_contain_text("In mediation")
        row.get_by_role("link", name=str(dispute)).click()

        expect(page.get_by_test_id("client-decline")).to_contain_text("The work was incomplete.")
        expect(page.get_by_test_id("freelancer-filing")).to_contain_text("Non-payment")
        page.get_by_label("To the freelancer (USD)").fill("180.00")
        page.get_by_label("To the client (USD)").fill("120.00")
        page.get_by_label("Rationale").fill("Four of the five pages were delivered.")
        page.get_by_role("button", name="Propose resolution").click()

        expect(page.locator(".messagelist")).to_contain_text("Resolution proposed")
        expect(page.get_by_test_id("stage")).to_have_text("Resolution proposed")
        expect(page.get_by_test_id("resolutions")).to_contain_text(
            "Four of the five pages were delivered."
        )
        page.get_by_role("link", name="Mediation queue").first.click()
        expect(row).to_contain_text("Resolution proposed")
        expect(row).to_contain_text("Met")
