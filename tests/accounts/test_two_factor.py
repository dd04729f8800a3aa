"""Two-factor authentication for staff: enrolling an authenticator app, logging in with its code,
and a staff session held at the second step until it gives one."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.models import Role
from tests.kit import PASSWORD, UserFactory, assert_error, browser_for, grant

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ADMIN = reverse("admin:index")
LOGIN = reverse("admin:login")
QUEUE = reverse("admin:mediation_mediationqueueitem_changelist")
ENROLL = reverse("accounts:two-factor")
VERIFY = reverse("accounts:two-factor-verify")


def code(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows now."""
    device.refresh_from_db()
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):06d}"


def wrong(device: TOTPDevice) -> str:
    return f"{(int(code(device)) + 1) % 1_000_000:06d}"


def enrolled(user) -> TOTPDevice:
    """``user`` set up their authenticator app earlier."""
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def log_in_to_the_admin(user, otp_token: str = "") -> tuple[Client, object]:
    browser = Client()
    response = browser.post(
        f"{LOGIN}?next={ADMIN}",
        {"username": user.username, "password": PASSWORD, "otp_token": otp_token},
    )
    return browser, response


@pytest.fixture
def required(settings):
    """Production's setting: every staff session needs the second factor."""
    settings.STAFF_2FA_REQUIRED = True


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


class TestWhenRequiredAStaffSessionNeedsItsSecondFactor:
    def test_a_staff_member_without_a_device_is_led_to_enroll_and_opens_no_admin_page(
        self, required, agent
    ):
        browser = browser_for(agent)

        index = browser.get(ADMIN)
        queue = browser.get(QUEUE)
        stats = browser.get(reverse("mediation:statistics"))

        assert index.status_code == 302
        assert index["Location"] == f"{ENROLL}?next={ADMIN}"
        assert queue.status_code == 302
        assert queue["Location"].startswith(ENROLL)
        assert stats.status_code == 302

    def test_an_enrolled_staff_member_who_logged_in_elsewhere_is_asked_for_the_code(
        self, required, agent
    ):
        enrolled(agent)
        browser = browser_for(agent)

        response = browser.get(QUEUE)

        assert response.status_code == 302
        assert response["Location"] == f"{VERIFY}?next={QUEUE}"

    def test_the_verify_page_accepts_the_right_code_and_then_the_admin_opens(
        self, required, agent, clock
    ):
        device = enrolled(agent)
        browser = browser_for(agent)

        response = browser.post(VERIFY, {"code": code(device), "next": QUEUE})

        assert response.status_code == 302
        assert response["Location"] == QUEUE
        assert browser.get(QUEUE).status_code == 200

    def test_the_verify_page_refuses_a_wrong_code(self, required, agent, clock):
        device = enrolled(agent)
        browser = browser_for(agent)

        response = browser.post(VERIFY, {"code": wrong(device), "next": QUEUE})

        assert response.status_code == 400
        assert "That code is not right" in response.content.decode()
        assert browser.get(QUEUE).status_code == 302

    def test_a_verified_session_opens_every_admin_page(self, required, agent, clock):
        device = enrolled(agent)

        browser, login = log_in_to_the_admin(agent, code(device))

        assert login.status_code == 302
        assert browser.get(ADMIN).status_code == 200
        assert browser.get(QUEUE).status_code == 200

    def test_an_unverified_staff_session_gets_no_api_answer(self, required, agent):
        browser = browser_for(agent)

        response = browser.get("/api/v1/disputes/")

        assert_error(response, 403, "otp_required")

    def test_a_verified_staff_session_uses_the_api(self, required, agent, clock):
        browser, _ = log_in_to_the_admin(agent, code(enrolled(agent)))

        assert browser.get("/api/v1/disputes/").status_code == 200

    def test_staff_get_no_api_token_and_a_token_they_hold_is_refused(self, required, agent):
        api = APIClient()

        asked = api.post("/api/v1/auth/token/", {"username": agent.username, "password": PASSWORD})
        api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=agent).key}")
        used = api.get("/api/v1/me/")

        assert_error(asked, 400, "staff_token_refused")
        assert_error(used, 401, "not_authenticated")

    def test_a_role_held_without_the_admin_site_is_held_too(self, required, contract):
        group_only = grant(UserFactory(username="gail-group"), Role.MEDIATION_AGENT, is_staff=False)

        page = browser_for(group_only).get(reverse("contracts:history"))
        api = browser_for(group_only).get("/api/v1/disputes/")

        assert page["Location"].startswith(ENROLL)
        assert_error(api, 403, "otp_required")

    def test_a_user_who_is_not_staff_is_unaffected(self, required, client_user):
        browser = browser_for(client_user)
        api = APIClient()

        page = browser.get(reverse("contracts:history"))
        me = browser.get("/api/v1/me/")
        token = api.post(
            "/api/v1/auth/token/", {"username": client_user.username, "password": PASSWORD}
        )

        assert page.status_code == 200
        assert me.status_code == 200
        assert token.status_code == 200
        assert not TOTPDevice.objects.exists()

    def test_an_unverified_staff_member_can_still_log_out(self, required, agent):
        browser = browser_for(agent)

        response = browser.post(reverse("admin:logout"))

        assert response["Location"] == reverse("login")
        assert "_auth_user_id" not in browser.session


class TestEnrolling:
    def test_shows_the_secret_and_its_qr_code_drawn_inline(self, required, agent):
        browser = browser_for(agent)

        response = browser.get(f"{ENROLL}?next={QUEUE}")

        page = response.content.decode()
        device = TOTPDevice.objects.get(user=agent)
        assert response.status_code == 200
        assert not device.confirmed
        assert '<svg width="' in page
        assert response.context["secret"].replace(" ", "") in device.config_url
        # Nothing is loaded from elsewhere: the QR code is part of the page.
        assert "<img" not in page
        assert "chart.googleapis" not in page and "qrserver" not in page

    def test_keeps_the_same_secret_until_it_is_confirmed(self, agent):
        browser = browser_for(agent)

        first = browser.get(ENROLL).context["secret"]
        again = browser.get(ENROLL).context["secret"]

        assert first == again
        assert TOTPDevice.objects.filter(user=agent).count() == 1

    def test_a_correct_code_turns_it_on_and_verifies_the_session(self, required, agent, clock):
        browser = browser_for(agent)
        browser.get(ENROLL)
        device = TOTPDevice.objects.get(user=agent)

        response = browser.post(ENROLL, {"code": code(device), "next": QUEUE})

        assert response.status_code == 302
        assert response["Location"] == QUEUE
        device.refresh_from_db()
        assert device.confirmed
        assert browser.get(QUEUE).status_code == 200

    def test_a_wrong_code_is_refused_and_nothing_is_turned_on(self, required, agent, clock):
        browser = browser_for(agent)
        browser.get(ENROLL)
        device = TOTPDevice.objects.get(user=agent)

        response = browser.post(ENROLL, {"code": wrong(device)})

        assert response.status_code == 400
        assert "That code is not right" in response.content.decode()
        device.refresh_from_db()
        assert not device.confirmed
        assert browser.get(QUEUE).status_code == 302

    def test_an_enrolled_member_gets_no_second_device_from_the_page(self, agent, clock):
        device = enrolled(agent)
        browser, _ = log_in_to_the_admin(agent, code(device))

        response = browser.get(ENROLL)

        assert response.status_code == 200
        assert "Two-factor authentication is on" in response.content.decode()
        assert list(TOTPDevice.objects.filter(user=agent)) == [device]

    def test_is_for_staff_only(self, client_user):
        response = browser_for(client_user).get(ENROLL)

        assert response.status_code == 404
        assert not TOTPDevice.objects.exists()


class TestLoggingInToTheAdminWithACode:
    def test_the_password_and_the_right_code_log_in_verified(self, required, agent, clock):
        device = enrolled(agent)

        browser, response = log_in_to_the_admin(agent, code(device))

        assert response.status_code == 302
        assert response["Location"] == ADMIN
        assert browser.get(ADMIN).status_code == 200

    def test_a_wrong_code_is_refused(self, required, agent, clock):
        device = enrolled(agent)

        browser, response = log_in_to_the_admin(agent, wrong(device))

        assert response.status_code == 200
        assert "That code is not right" in response.content.decode()
        assert "_auth_user_id" not in browser.session

    def test_no_code_is_refused_for_an_enrolled_member(self, agent):
        enrolled(agent)

        browser, response = log_in_to_the_admin(agent)

        assert "Enter the code from your authenticator app" in response.content.decode()
        assert "_auth_user_id" not in browser.session

    def test_a_code_works_once(self, required, agent, clock):
        device = enrolled(agent)
        used = code(device)
        log_in_to_the_admin(agent, used)

        browser, response = log_in_to_the_admin(agent, used)

        assert "That code is not right" in response.content.decode()
        assert "_auth_user_id" not in browser.session

    def test_the_next_code_works_later(self, required, agent, clock):
        device = enrolled(agent)
        log_in_to_the_admin(agent, code(device))
        clock.shift(timedelta(seconds=60))

        browser, response = log_in_to_the_admin(agent, code(device))

        assert response.status_code == 302
        assert browser.get(QUEUE).status_code == 200

    def test_a_member_without_a_device_logs_in_and_is_led_to_enroll(self, required, agent):
        browser, response = log_in_to_the_admin(agent)

        assert response.status_code == 302
        assert browser.get(ADMIN)["Location"].startswith(ENROLL)


class TestLocallyItIsOffUntilEnrolled:
    def test_staff_without_a_device_use_the_admin_as_before(self, agent):
        browser, response = log_in_to_the_admin(agent)

        assert response.status_code == 302
        assert browser.get(QUEUE).status_code == 200

    def test_an_enrolled_member_is_asked_for_the_code(self, agent, clock):
        device = enrolled(agent)
        browser = browser_for(agent)

        held = browser.get(QUEUE)
        browser.post(VERIFY, {"code": code(device), "next": QUEUE})

        assert held["Location"] == f"{VERIFY}?next={QUEUE}"
        assert browser.get(QUEUE).status_code == 200

    def test_staff_may_still_use_api_tokens(self, agent):
        enrolled(agent)

        response = APIClient().post(
            "/api/v1/auth/token/", {"username": agent.username, "password": PASSWORD}
        )

        assert response.status_code == 200

    def test_the_admin_index_links_to_the_enrollment(self, agent):
        response = browser_for(agent).get(ADMIN)

        assert ENROLL in response.content.decode()
