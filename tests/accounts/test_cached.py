"""Every page reads the user's groups and unread count from the cache, and never a stale one."""

import uuid

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import cached
from accounts.models import Notification, Role
from accounts.services import (
    Message,
    notification_mark_read,
    notifications_mark_all_read,
    notifications_send,
    user_role_grant,
    user_role_revoke,
)
from core.actions import Actor, holds_role
from tests.kit import browser_for, grant, reload

HISTORY = reverse("contracts:history")


@pytest.fixture(autouse=True)
def memory_cache(settings):
    """A cache that is no database table, as Redis is in production: a hit costs no query.

    (The database cache keeps nothing: there the rows are read on every request.)"""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"test-{uuid.uuid4().hex}",
        },
    }


def page_queries(browser) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert browser.get(HISTORY).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def badge(browser) -> str | None:
    html = browser.get(HISTORY).content.decode()
    marker = 'class="nav-badge" aria-label="'
    if marker not in html:
        return None
    return html.split(marker, 1)[1].split(" ", 1)[0]


def tell(user, title="Funded"):
    notifications_send(
        messages=[Message(user_id=user.pk, kind="k", title=title)], now=timezone.now()
    )


class TestAPageRequest:
    def test_reads_neither_groups_nor_notifications_once_they_are_cached(self, client_user):
        tell(client_user)
        browser = browser_for(client_user)
        browser.get(HISTORY)  # warm the session and the cache
        cached.forget_group_names([client_user.pk])
        cached.forget_unread_count([client_user.pk])

        cold = page_queries(browser)
        warm = page_queries(browser)

        assert len(warm) == len(cold) - 2 > 0
        assert any("auth_group" in sql for sql in cold)
        assert any("accounts_notification" in sql for sql in cold)
        assert not any("auth_group" in sql or "accounts_notification" in sql for sql in warm)

    def test_shows_a_new_notification_at_once_and_a_read_one_gone(self, client_user):
        browser = browser_for(client_user)
        assert badge(browser) is None

        tell(client_user)
        assert badge(browser) == "1"
        tell(client_user, "Released")
        assert badge(browser) == "2"

        notification_mark_read(
            notification=Notification.objects.first(), user=client_user, now=timezone.now()
        )
        assert badge(browser) == "1"
        notifications_mark_all_read(user=client_user, now=timezone.now())
        assert badge(browser) is None

    def test_reading_in_the_inbox_lowers_the_badge_on_the_next_page(self, client_user):
        tell(client_user)
        browser = browser_for(client_user)
        assert badge(browser) == "1"

        browser.post(reverse("accounts:inbox-read-all"))

        assert badge(browser) is None

    def test_another_users_notification_leaves_the_badge_alone(self, client_user, freelancer):
        browser = browser_for(client_user)
        assert badge(browser) is None

        tell(freelancer)

        assert badge(browser) is None


class TestARoleChange:
    @pytest.fixture(autouse=True)
    def _two_factor_required(self, settings):
        settings.STAFF_2FA_REQUIRED = True

    def held(self, browser) -> bool:
        """Whether the two-factor middleware holds the session for a role it now sees."""
        return browser.get(HISTORY).status_code == 302

    def test_granted_and_revoked_is_seen_on_the_next_request(self, client_user):
        browser = browser_for(client_user)
        assert not self.held(browser)

        grant(client_user, Role.SUPPORT, is_staff=False)  # the role alone makes a staff account
        assert self.held(browser)

        client_user.groups.clear()
        assert not self.held(browser)

    def test_the_services_grant_and_revoke_are_seen_at_once(self, client_user):
        assert not holds_role(reload(client_user), Actor.SUPPORT)

        user_role_grant(user=client_user, role=Role.SUPPORT)
        assert holds_role(reload(client_user), Actor.SUPPORT)

        user_role_revoke(user=client_user, role=Role.SUPPORT)
        assert not holds_role(reload(client_user), Actor.SUPPORT)

    def test_the_admins_group_side_changes_are_seen_at_once(self, client_user):
        group = Group.objects.get(name=Role.SUPPORT.value)
        group.user_set.add(client_user)
        assert holds_role(reload(client_user), Actor.SUPPORT)

        group.user_set.remove(client_user)
        assert not holds_role(reload(client_user), Actor.SUPPORT)

        group.user_set.add(client_user)
        group.user_set.clear()
        assert not holds_role(reload(client_user), Actor.SUPPORT)

    def test_a_renamed_or_deleted_group_is_seen_at_once(self, client_user):
        group = Group.objects.get(name=Role.SUPPORT.value)
        group.user_set.add(client_user)
        assert holds_role(reload(client_user), Actor.SUPPORT)

        group.name = "Former support"
        group.save()
        assert not holds_role(reload(client_user), Actor.SUPPORT)
        group.name = Role.SUPPORT.value
        group.save()
        assert holds_role(reload(client_user), Actor.SUPPORT)

        group.delete()
        assert not holds_role(reload(client_user), Actor.SUPPORT)
