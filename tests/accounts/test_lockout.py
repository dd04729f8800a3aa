"""Failed logins lock the username and the address out, on every way in, until the cool-off ends.

LOGIN_FAILURE_LIMIT (5) failures lock out the username from any address, or the address for
any username, for LOGIN_LOCKOUT_PERIOD (15 minutes) after the last failure: on the log-in page,
the admin's log-in page and the API's token endpoint alike, the right password included. Staff
lift a lockout in the admin.
"""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.lockout import retry_at
from core.deadlines import when
from tests import kit
from tests.kit import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
ADMIN_LOGIN = "/admin/login/"
TOKEN = "/api/v1/auth/token/"
START = timezone.now().replace(microsecond=0) + timedelta(days=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limit(settings):
    return settings.AXES_FAILURE_LIMIT


class Browser:
    """The log-in page (or the admin's), from one address."""

    def __init__(self, url: str = LOGIN, address: str = "203.0.113.7") -> None:
        self.url = url
        self.client = Client(REMOTE_ADDR=address)

    def log_in(self, username: str, password: str):
        return self.client.post(self.url, {"username": username, "password": password})

    def logged_in(self) -> bool:
        return "_auth_user_id" in self.client.session


class Api:
    """The API's token endpoint, from one address."""

    def __init__(self, address: str = "203.0.113.7") -> None:
        self.client = APIClient(REMOTE_ADDR=address)

    def log_in(self, username: str, password: str):
        return self.client.post(TOKEN, {"username": username, "password": password})


def fail(door, username: str, times: int) -> None:
    """Log in with a wrong password ``times`` times (the last one may lock out)."""
    for _ in range(times):
        response = door.log_in(username, "wrong-guess")
        assert response.status_code in {200, 400, 429}, response.content


def assert_locked_page(response, *, ends_at, minutes_left: int) -> None:
    """A lockout page that names the end of the lockout and says how long is left."""
    assert response.status_code == 429
    assert response["Retry-After"] == str(minutes_left * 60)
    page = response.content.decode()
    text = " ".join(page.split())
    assert "Too many failed logins" in text
    assert f"Try again after {retry_at(ends_at):%-d %b %Y, %H:%M} UTC" in text
    assert f"in {minutes_left}\xa0minutes" in page


class TestTheLogInPage:
    def test_locks_the_username_out_at_the_limit_and_says_when_to_try_again(
        self, client_user, clock, limit
    ):
        browser = Browser()
        fail(browser, "carol-client", limit - 1)

        response = browser.log_in("carol-client", "wrong-guess")

        assert_locked_page(response, ends_at=START + timedelta(minutes=15), minutes_left=15)

    def test_refuses_the_right_password_while_locked_out(self, client_user, clock, limit):
        browser = Browser()
        fail(browser, "carol-client", limit)
        clock.shift(timedelta(minutes=5))

        response = browser.log_in("carol-client", PASSWORD)

        assert not browser.logged_in()
        # Tries during the lockout do not extend it: still 15 minutes after the last failure.
        assert_locked_page(response, ends_at=START + timedelta(minutes=15), minutes_left=10)

    def test_a_locked_out_username_is_refused_from_every_address(self, client_user, limit):
        fail(Browser(address="203.0.113.7"), "carol-client", limit)
        elsewhere = Browser(address="198.51.100.20")

        response = elsewhere.log_in("carol-client", PASSWORD)

        assert response.status_code == 429
        assert not elsewhere.logged_in()

    def test_one_failure_fewer_than_the_limit_still_lets_the_right_password_in(
        self, client_user, limit
    ):
        browser = Browser()
        fail(browser, "carol-client", limit - 1)

        response = browser.log_in("carol-client", PASSWORD)

        assert response.status_code == 302
        assert browser.logged_in()

    def test_lets_the_user_in_once_the_cool_off_has_passed(self, client_user, clock, limit):
        browser = Browser()
        fail(browser, "carol-client", limit)

        clock.shift(timedelta(minutes=15) - timedelta(seconds=1))
        still_locked = browser.log_in("carol-client", PASSWORD)
        clock.shift(timedelta(seconds=2))
        after = browser.log_in("carol-client", PASSWORD)

        assert still_locked.status_code == 429
        assert after.status_code == 302
        assert browser.logged_in()

    def test_records_the_failures_and_the_lockout(self, client_user, limit):
        fail(Browser(), "carol-client", limit)

        attempt = AccessAttempt.objects.get(username="carol-client")
        assert attempt.failures_since_start == limit
        assert attempt.ip_address == "203.0.113.7"
        logged = AccessFailureLog.objects.filter(username="carol-client").order_by("pk")
        assert [entry.locked_out for entry in logged] == [False] * (limit - 1) + [True]

    def test_the_limit_and_the_cool_off_are_settings(self, settings, client_user, clock):
        settings.AXES_FAILURE_LIMIT = 2
        settings.AXES_COOLOFF_TIME = timedelta(hours=1)
        browser = Browser()
        fail(browser, "carol-client", 1)

        response = browser.log_in("carol-client", "wrong-guess")

        assert response.status_code == 429
        assert int(response["Retry-After"]) == 3600
        assert "after 2 failed attempts" in " ".join(response.content.decode().split())


class TestTheAddressLimit:
    def test_locks_an_address_out_that_fails_with_a_different_username_each_time(
        self, client_user, limit
    ):
        browser = Browser(address="203.0.113.7")
        for number in range(limit):
            fail(browser, f"someone-{number}", 1)

        response = browser.log_in("carol-client", PASSWORD)

        assert response.status_code == 429
        assert not browser.logged_in()

    def test_the_same_user_logs_in_from_another_address(self, client_user, limit):
        for number in range(limit):
            fail(Browser(address="203.0.113.7"), f"someone-{number}", 1)
        elsewhere = Browser(address="198.51.100.20")

        response = elsewhere.log_in("carol-client", PASSWORD)

        assert response.status_code == 302
        assert elsewhere.logged_in()

    def test_behind_a_proxy_counts_the_address_it_saw_not_one_the_client_claims(
        self, settings, client_user, limit
    ):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

        def via_proxy(seen: str, claimed: str) -> Client:
            # X-Forwarded-For: what the client sent, then the address the proxy saw.
            return Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"{claimed}, {seen}")

        for number in range(limit):
            via_proxy("203.0.113.7", claimed=f"192.0.2.{number}").post(
                LOGIN, {"username": f"someone-{number}", "password": "wrong-guess"}
            )
        here = via_proxy("203.0.113.7", claimed="192.0.2.99").post(
            LOGIN, {"username": "carol-client", "password": PASSWORD}
        )
        elsewhere = via_proxy("198.51.100.20", claimed="192.0.2.99").post(
            LOGIN, {"username": "carol-client", "password": PASSWORD}
        )

        assert here.status_code == 429
        assert elsewhere.status_code == 302
        assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"203.0.113.7"}


class TestTheAdminLogInPage:
    def test_locks_a_staff_member_out_and_refuses_the_right_password(self, clock, limit):
        kit.support("sue-support")
        admin = Browser(ADMIN_LOGIN)
        fail(admin, "sue-support", limit - 1)

        locking = admin.log_in("sue-support", "wrong-guess")
        clock.shift(timedelta(minutes=1))
        right = admin.log_in("sue-support", PASSWORD)

        assert_locked_page(locking, ends_at=START + timedelta(minutes=15), minutes_left=15)
        assert_locked_page(right, ends_at=START + timedelta(minutes=15), minutes_left=14)
        assert not admin.logged_in()
        assert f'href="{ADMIN_LOGIN}"' in right.content.decode()

    def test_failures_on_either_page_count_together(self, limit):
        kit.support("sue-support")
        fail(Browser(LOGIN), "sue-support", limit - 1)

        response = Browser(ADMIN_LOGIN).log_in("sue-support", "wrong-guess")

        assert response.status_code == 429


class TestTheApiTokenEndpoint:
    def test_locks_the_username_out_with_a_429_that_says_when_to_try_again(
        self, client_user, clock, limit
    ):
        api = Api()
        fail(api, "carol-client", limit - 1)

        response = api.log_in("carol-client", "wrong-guess")

        error = kit.assert_error(response, 429, "too_many_login_attempts")
        assert error["fields"] == {}
        ends_at = START + timedelta(minutes=15)
        assert response["Retry-After"] == str(15 * 60)
        assert f"Try again after {when(retry_at(ends_at))} (in 15 minutes)" in error["message"]

    def test_refuses_the_right_password_while_locked_out(self, client_user, clock, limit):
        api = Api()
        fail(api, "carol-client", limit)
        clock.shift(timedelta(minutes=10))

        response = api.log_in("carol-client", PASSWORD)

        kit.assert_error(response, 429, "too_many_login_attempts")
        assert response["Retry-After"] == str(5 * 60)
        assert "token" not in response.json()

    def test_a_wrong_password_below_the_limit_is_still_a_400(self, client_user):
        response = Api().log_in("carol-client", "wrong-guess")

        kit.assert_error(response, 400, "invalid_credentials")

    def test_locks_an_address_out_that_tries_many_usernames(self, client_user, limit):
        api = Api(address="203.0.113.7")
        for number in range(limit):
            fail(api, f"someone-{number}", 1)

        here = api.log_in("carol-client", PASSWORD)
        elsewhere = Api(address="198.51.100.20").log_in("carol-client", PASSWORD)

        kit.assert_error(here, 429, "too_many_login_attempts")
        assert elsewhere.status_code == 200

    def test_a_lockout_from_the_browser_holds_for_the_api(self, client_user, limit):
        fail(Browser(), "carol-client", limit)

        response = Api(address="198.51.100.20").log_in("carol-client", PASSWORD)

        kit.assert_error(response, 429, "too_many_login_attempts")

    def test_lets_the_user_in_once_the_cool_off_has_passed(self, client_user, clock, limit):
        api = Api()
        fail(api, "carol-client", limit)
        clock.shift(timedelta(minutes=15, seconds=1))

        response = api.log_in("carol-client", PASSWORD)

        assert response.status_code == 200
        assert response.json()["token"]

    def test_the_schema_documents_the_lockout(self, db):
        schema = APIClient().get("/api/schema/", {"format": "json"}).json()

        answer = schema["paths"][TOKEN]["post"]["responses"]["429"]
        assert "too_many_login_attempts" in answer["description"]
        assert "Retry-After" in answer["headers"]


class TestLiftingALockout:
    @pytest.fixture
    def locked_out(self, client_user, limit):
        fail(Browser(), "carol-client", limit)
        assert Browser().log_in("carol-client", PASSWORD).status_code == 429
        return client_user

    def test_support_lists_the_lockouts_in_the_admin(self, locked_out):
        support = kit.browser_for(kit.support("sue-support"))

        response = support.get(reverse("admin:axes_accessattempt_changelist"))

        assert response.status_code == 200
        assert b"carol-client" in response.content
        assert b"Locked Out" in response.content

    def test_support_lifts_a_lockout_and_the_user_logs_in(self, locked_out):
        support = kit.browser_for(kit.support("sue-support"))
        attempt = AccessAttempt.objects.get(username="carol-client")

        response = support.post(
            reverse("admin:axes_accessattempt_changelist"),
            {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
        )
        browser = Browser()
        logged_in = browser.log_in("carol-client", PASSWORD)

        assert response.status_code == 302
        assert not AccessAttempt.objects.exists()
        assert logged_in.status_code == 302
        assert browser.logged_in()

    def test_a_superuser_lifts_it_too(self, locked_out):
        superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
        attempt = AccessAttempt.objects.get(username="carol-client")

        response = kit.browser_for(superuser).post(
            reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
        )

        assert response.status_code == 302
        assert Api().log_in("carol-client", PASSWORD).status_code == 200

    def test_the_failure_log_outlives_the_lifted_lockout(self, locked_out):
        AccessAttempt.objects.all().delete()

        assert AccessFailureLog.objects.filter(username="carol-client", locked_out=True).exists()

    def test_other_staff_cannot_see_or_lift_lockouts(self, locked_out):
        agent = kit.browser_for(kit.agent("mia-agent"))

        response = agent.get(reverse("admin:axes_accessattempt_changelist"))

        assert response.status_code == 403

    def test_the_reset_command_lifts_it(self, locked_out):
        call_command("axes_reset_username", "carol-client")

        assert Browser().log_in("carol-client", PASSWORD).status_code == 302
