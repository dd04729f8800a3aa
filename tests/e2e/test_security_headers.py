"""The pages under their Content-Security-Policy and Permissions-Policy, in Chromium: both headers
on every page, no violation reported on any main page (the ``page`` fixture fails a test on
any), and what runs in the pages still runs: the countdown, htmx, Swagger UI and the admin.
"""

import re

from playwright.sync_api import expect

from accounts.models import Notification, Role, User
from tests import kit
from tests.kit import PASSWORD

from .conftest import log_in, make_contract

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def visit(page, path: str, *, timeout: float = 5_000):
    """Open ``path``; assert both headers and that nothing on it broke the policy."""
    response = page.goto(path, timeout=timeout)
    assert response.ok, f"{path}: {response.status}"
    assert response.headers["content-security-policy"] == CSP, path
    assert "camera=()" in response.headers["permissions-policy"], path
    page.wait_for_load_state("load")
    assert page.header_problems == [], path
    return response


class TestPagesUnderThePolicy:
    def test_the_parties_pages_send_the_headers_and_break_nothing(self, page):
        dispute = kit.filed(make_contract())
        contract = dispute.refund_request.contract

        visit(page, "/login/")
        log_in(page, "carol", PASSWORD)
        for path in [
            "/contracts/",
            contract.get_absolute_url(),
            dispute.refund_request.get_absolute_url(),
            dispute.get_absolute_url(),
            "/inbox/",
            "/no-such-page/",
        ]:
            if path == "/no-such-page/":
                assert page.goto(path).headers["content-security-policy"] == CSP
                continue
            visit(page, path)

    def test_the_staff_pages_and_the_admin_send_the_headers_and_break_nothing(self, page):
        kit.declined(make_contract())
        kit.staff_member(Role.MEDIATION_AGENT, "mia")

        page.goto("/admin/")
        page.get_by_label("Username").fill("mia")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/admin/")
        for path in ["/admin/", "/admin/mediation/mediationqueueitem/", "/staff/statistics/"]:
            visit(page, path)
        page.goto("/admin/mediation/mediationqueueitem/")
        page.locator("#result_list tbody tr a").first.click()
        expect(page.get_by_test_id("stage")).to_have_text("In mediation")
        assert page.header_problems == []

    def test_swagger_ui_starts_from_its_own_script_and_tries_a_call(self, page):
        kit.filed(make_contract())
        log_in(page, "carol", PASSWORD)

        # Swagger UI's bundle is large and the schema is built on request: allow them time.
        page.set_default_timeout(20_000)
        visit(page, "/api/docs/", timeout=20_000)

        expect(page.locator(".opblock-tag").first).to_be_visible(timeout=20_000)
        me = page.locator("#operations-auth-me_retrieve")
        me.locator(".opblock-summary").click()
        me.get_by_role("button", name="Try it out").click()
        me.get_by_role("button", name="Execute").click()
        expect(me.locator(".live-responses-table .response .response-col_status")).to_have_text(
            "200", timeout=20_000
        )
        expect(me.locator(".live-responses-table .highlight-code")).to_contain_text(
            '"username": "carol"'
        )
        assert page.header_problems == []


class TestScriptsStillRun:
    def test_the_countdown_and_the_progress_bar_update_the_deadline(self, page):
        dispute = kit.filed(make_contract())
        log_in(page, "carol", PASSWORD)
        visit(page, dispute.get_absolute_url())
        countdown = page.locator("time[data-countdown]")
        bar = page.get_by_test_id("deadline").get_by_role("progressbar")
        expect(bar).to_have_attribute("aria-valuenow", "0")

        # Blank what the server rendered; the script writes it again on its next tick.
        page.evaluate(
            """() => {
                document.querySelector("time[data-countdown]").textContent = "";
                document.querySelector(".progress-fill").setAttribute("width", "50");
                document.dispatchEvent(new Event("htmx:afterSettle"));
            }"""
        )

        expect(countdown).to_have_text(re.compile(r"^in 4 days, 23 hours$|^in 5 days$"))
        expect(page.locator(".progress-fill")).to_have_attribute("width", "0")
        assert page.header_problems == []

    def test_htmx_posts_with_the_csrf_token_and_swaps_the_answer(self, page):
        kit.filed(make_contract())
        frank = User.objects.get(username="frank")
        assert Notification.objects.filter(user=frank, read_at__isnull=True).exists()
        log_in(page, "frank", PASSWORD)
        visit(page, "/inbox/")
        assert page.evaluate("() => htmx.config.includeIndicatorStyles") is False

        page.evaluate(
            """() => {
                const button = document.createElement("button");
                button.textContent = "Read all (htmx)";
                button.setAttribute("hx-post", "/inbox/read-all/");
                button.setAttribute("hx-target", "#main");
                button.setAttribute("hx-select", "#main");
                button.setAttribute("hx-swap", "outerHTML");
                document.querySelector("#main").prepend(button);
                htmx.process(button);
            }"""
        )
        with page.expect_response("**/inbox/read-all/") as answer:
            page.get_by_role("button", name="Read all (htmx)").click()

        assert answer.value.request.headers["hx-request"] == "true"
        expect(page.get_by_role("status")).to_contain_text("as read.")
        expect(page.get_by_role("button", name="Read all (htmx)")).to_have_count(0)
        assert not Notification.objects.filter(user=frank, read_at__isnull=True).exists()
        assert page.header_problems == []
