"""Logging in to the API with a token, and the logged-in user."""

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from accounts.models import Role
from tests import kit
from tests.kit import PASSWORD

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> dict:
    # These tests hold the answers to the shape and the code, not to a message.
    return kit.assert_error(response, status, code, message=False)


class TestTokenObtain:
    def test_exchanges_a_username_and_password_for_a_token_that_authenticates(self, client_user):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "carol-client", "password": PASSWORD}
        )
        token = response.json()["token"]
        me = APIClient(headers={"Authorization": f"Token {token}"}).get("/api/v1/me/")

        assert response.status_code == 200
        assert me.status_code == 200
        assert me.json()["username"] == "carol-client"

    def test_gives_the_same_token_each_time(self, client_user):
        credentials = {"username": "carol-client", "password": PASSWORD}

        first = APIClient().post("/api/v1/auth/token/", credentials).json()
        second = APIClient().post("/api/v1/auth/token/", credentials).json()

        assert first == second

    def test_refuses_a_wrong_password(self, client_user):
        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "carol-client", "password": "guess"}
        )

        error = assert_error(response, 400, "invalid_credentials")
        assert error["message"] == "Unable to log in with provided credentials."

    def test_refuses_an_inactive_user(self, client_user):
        client_user.is_active = False
        client_user.save(update_fields=["is_active"])

        response = APIClient().post(
            "/api/v1/auth/token/", {"username": "carol-client", "password": PASSWORD}
        )

        assert_error(response, 400, "invalid_credentials")

    def test_names_the_missing_fields(self, db):
        response = APIClient().post("/api/v1/auth/token/", {})

        error = assert_error(response, 400, "required")
        assert set(error["fields"]) == {"username", "password"}

    def test_is_not_blocked_by_a_stale_token(self, client_user):
        api = APIClient(headers={"Authorization": "Token expired-long-ago"})

        response = api.post(
            "/api/v1/auth/token/", {"username": "carol-client", "password": PASSWORD}
        )

        assert response.status_code == 200

    def test_throttles_repeated_guesses(self, client_user, monkeypatch):
        monkeypatch.setattr(AnonRateThrottle, "rate", "2/min", raising=False)
        guess = {"username": "carol-client", "password": "guess"}
        for _ in range(2):
            APIClient().post("/api/v1/auth/token/", guess)

        response = APIClient().post("/api/v1/auth/token/", guess)

        assert_error(response, 429, "throttled")
        assert int(response["Retry-After"]) > 0


class TestMe:
    def test_describes_the_logged_in_user(self, client_user):
        client_user.time_zone = "Europe/Paris"
        client_user.save(update_fields=["time_zone"])
        client_user.groups.add(Group.objects.get_or_create(name=Role.MEDIATION_AGENT.value)[0])
        api = APIClient()
        api.force_authenticate(client_user)

        response = api.get("/api/v1/me/")

        assert response.status_code == 200
        assert response.json() == {
            "id": client_user.pk,
            "username": "carol-client",
            "roles": ["Mediation agents"],
            "time_zone": "Europe/Paris",
            "suspended": False,
        }

    def test_shows_a_suspension(self, client_user):
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])
        api = APIClient()
        api.force_authenticate(client_user)

        assert api.get("/api/v1/me/").json()["suspended"] is True

    def test_works_with_a_browser_session(self, client_user):
        api = APIClient()
        api.force_login(client_user)

        assert api.get("/api/v1/me/").json()["username"] == "carol-client"

    def test_answers_401_without_credentials(self, db):
        response = APIClient().get("/api/v1/me/")

        assert_error(response, 401, "not_authenticated")
