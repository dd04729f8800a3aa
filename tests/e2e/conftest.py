"""Browser tests: Playwright (sync API) driving the system's Chromium against a live server.

Every test under this folder is marked ``e2e`` and skipped, with the reason, when Chromium is not
installed. Playwright's sync API keeps an event loop running in the test thread, so these tests
(and only these) allow Django's ORM to run there. Every page runs under the site's
Content-Security-Policy, and a test fails when a page breaks it.
"""

import os
from pathlib import Path

import pytest

from tests.kit import ContractFactory, UserFactory

CHROMIUM_PATH = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    missing = not CHROMIUM_PATH.exists()
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM_PATH}: apt-get install -y chromium"
    )
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            if missing:
                item.add_marker(skip)


@pytest.fixture(scope="module")
def chromium(django_db_setup):
    """Start Chromium once per module, after the test database exists."""
    from playwright.sync_api import sync_playwright

    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM_PATH), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Report each Content-Security-Policy violation on the console, where ``page`` collects them.
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`securitypolicyviolation: ${event.violatedDirective} blocked `
    + `${event.blockedURI || "inline code"} in ${event.sourceFile}:${event.lineNumber}`);
});
"""


def header_problem(text: str) -> bool:
    """Whether a console message is a refusal by the CSP or a malformed security header."""
    return any(
        sign in text
        for sign in ("securitypolicyviolation", "Content Security Policy", "Permissions-Policy")
    )


@pytest.fixture
def page(chromium, live_server):
    """A page in a fresh context; a test fails if any page broke the Content-Security-Policy.

    ``page.header_problems`` lists what the console said about the policy so far.
    """
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(5_000)
    context.add_init_script(REPORT_VIOLATIONS)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console", lambda message: header_problem(message.text) and problems.append(message.text)
    )
    page.header_problems = problems
    yield page
    context.close()
    assert problems == [], "The Content-Security-Policy was broken or malformed on a page"


def log_in(page, username: str, password: str) -> None:
    """Log in through the login page, as a person would."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/contracts/")


def make_contract():
    """Carol's "Website redesign" contract with Frank: the people the browser stories log in as."""
    return ContractFactory(
        client=UserFactory(username="carol"),
        freelancer=UserFactory(username="frank"),
        title="Website redesign",
    )
