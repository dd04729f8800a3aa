"""Sessions live in the shared cache, written through to the database behind it."""

import pytest
from django.contrib.sessions.backends.cached_db import KEY_PREFIX
from django.contrib.sessions.models import Session
from django.core.cache import caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.kit import browser_for

pytestmark = pytest.mark.django_db

HISTORY = reverse("contracts:history")


def session_queries(browser) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(HISTORY)
    assert response.status_code == 200
    return [q["sql"] for q in queries.captured_queries if "django_session" in q["sql"]]


class TestSessions:
    def test_a_request_reads_its_session_from_the_cache_not_the_session_table(self, client_user):
        browser = browser_for(client_user)
        browser.get(HISTORY)

        assert session_queries(browser) == []

    def test_a_session_survives_the_loss_of_its_cache_entry(self, client_user):
        browser = browser_for(client_user)
        key = browser.session.session_key
        assert Session.objects.filter(session_key=key).exists()

        caches["default"].delete(KEY_PREFIX + key)  # a flushed or restarted cache

        assert len(session_queries(browser)) == 1  # read back from the database once
        assert session_queries(browser) == []  # and cached again
        assert browser.get(HISTORY).context["user"] == client_user
