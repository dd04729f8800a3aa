from playwright.sync_api import expect

from accounts.models import Role
from disputes.models import Macro
from tests.e2e.test_agent_resolution import log_in_to_the_admin
from tests.kit import PASSWORD, ContractFactory, UserFactory, declined_dispute, staff_member


class TestMacroMenu:
    def test_inserts_the_rendered_text_in_place_and_it_stays_editable(self, page):
        staff_member(Role.MEDIATION_AGENT, "mia")
        contract = ContractFactory(
            client=UserFactory(username="carol"), freelancer=UserFactory(username="frank")
        )
        dispute = declined_dispute(contract)
        Macro.objects.create(
            name="Half delivered",
            kind=Macro.Kind.RATIONALE,
            text="{freelancer} delivered half of {amount}; {unknown} stays.",
        )

        log_in_to_the_admin(page, "mia", PASSWORD)
        page.goto(f"/admin/mediation/mediationqueueitem/{dispute.pk}/change/")
        page.get_by_label("Rationale").fill("Seen the files. ")
        page.get_by_role("link", name="Half delivered").click()

        rationale = page.get_by_label("Rationale")
        expect(rationale).to_have_value(
            "Seen the files. frank delivered half of 300.00 USD; {unknown} stays."
        )
        assert "macro=" not in page.url  # inserted in place, no reload
        rationale.fill("My own words.")
        expect(rationale).to_have_value("My own words.")
