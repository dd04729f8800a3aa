"""Accessibility: axe-core finds no serious or critical violation on the pages people use.

axe-core is vendored beside this file (``vendor/axe.min.js``, with its licence); it is run in the
page through Playwright, so the pages' Content-Security-Policy needs no exception for it.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from accounts.models import Role
from tests.kit import (
    DISPUTE_STAGES,
    PASSWORD,
    ContractFactory,
    dispute_at,
    draft,
    file_dispute,
    make_milestone,
    refund_request,
    staff_member,
)

from .conftest import log_in, make_contract

AXE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()
SERIOUS = {"serious", "critical"}


def violations(page) -> list[str]:
    """The serious and critical violations axe finds on the page, one line each."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(AXE + "\n;void 0")
    found = page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(r => r.violations.map(v => "
        "({id: v.id, impact: v.impact, help: v.help, "
        "targets: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {', '.join(v['targets'])}"
        for v in found
        if v["impact"] in SERIOUS
    ]


def assert_clean(page, url: str) -> None:
    page.goto(url)
    problems = violations(page)
    assert problems == [], f"{url}:\n" + "\n".join(problems)


def contrast(page, selector: str) -> float:
    """The contrast ratio (WCAG 2) of the first ``selector``'s text on its own background."""
    colours = page.evaluate(
        "(s) => { const c = getComputedStyle(document.querySelector(s)); "
        "return [c.color, c.backgroundColor]; }",
        selector,
    )

    def luminance(css: str) -> float:
        red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css)[:3])
        linear = [
            c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (red, green, blue)
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    lighter, darker = sorted(map(luminance, colours), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def log_in_to_the_admin(page, username: str) -> None:
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


class TestThePartiesPages:
    def test_contract_history_see_request_and_the_inbox(self, page):
        contract = make_contract()
        refund = refund_request(contract)
        active = ContractFactory(client=contract.client, freelancer=contract.freelancer)
        make_milestone(active, title="Design", submitted=True)
        log_in(page, "frank", PASSWORD)

        # axe leaves the badges' contrast undecided (a pill on the header's dark band): measured.
        page.goto(reverse("accounts:inbox"))
        assert contrast(page, ".nav-badge") >= 4.5
        assert contrast(page, ".badge-unread") >= 4.5
        for url in (
            reverse("contracts:history"),
            contract.get_absolute_url(),
            active.get_absolute_url(),
            refund.get_absolute_url(),
            reverse("accounts:inbox"),
        ):
            assert_clean(page, url)

    def test_the_filing_steps(self, page):
        contract = make_contract()
        refund = refund_request(contract)
        dispute = draft(refund)
        log_in(page, "frank", PASSWORD)

        for url in (
            reverse("disputes:dispute-feedback", args=[refund.pk]),
            reverse("disputes:dispute-details", args=[dispute.pk]),
            reverse("disputes:dispute-amount", args=[dispute.pk]),
            reverse("disputes:dispute-review", args=[dispute.pk]),
        ):
            assert_clean(page, url)

    @pytest.mark.parametrize("stage", DISPUTE_STAGES)
    def test_see_dispute_in_every_stage(self, page, stage):
        agent = staff_member(Role.MEDIATION_AGENT, "mia")
        arbitrator = staff_member(Role.ARBITRATOR, "art")
        contract = make_contract()
        dispute = dispute_at(stage, contract, agent=agent, arbitrator=arbitrator)

        for username in ("frank", "carol"):
            if stage in ("draft", "lapsed") and username == "carol":
                continue  # the client never sees a draft
            log_in(page, username, PASSWORD)
            assert_clean(page, dispute.get_absolute_url())
            page.get_by_role("button", name="Log out").click()


class TestStaffPages:
    def test_statistics_and_the_admin_queues(self, page):
        staff_member(Role.MEDIATION_AGENT, "mia")
        contract = make_contract()
        file_dispute(refund_request(contract))
        log_in_to_the_admin(page, "mia")

        for url in (
            reverse("mediation:statistics"),
            reverse("admin:index"),
            reverse("admin:mediation_mediationqueueitem_changelist"),
            reverse("admin:arbitration_arbitrationqueueitem_changelist"),
        ):
            assert_clean(page, url)
