from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, User
from accounts.services import Message, notifications_send
from tests.kit import browser_for, shown_messages

pytestmark = pytest.mark.django_db


def send(user: User, title: str, *, url: str = "/contracts/", minutes_ago: int = 0):
    message = Message(user_id=user.pk, kind="test", title=title, body=f"About {title}", url=url)
    (notification_id,) = notifications_send(
        messages=[message],
        now=timezone.now() - timedelta(minutes=minutes_ago),
    )
    return Notification.objects.get(pk=notification_id)


def titles(response) -> list[str]:
    return [n.title for n in response.context["page"].object_list]


class TestInbox:
    def test_sends_anonymous_visitors_to_log_in(self, client):
        response = client.get(reverse("accounts:inbox"))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_lists_only_the_users_own_notifications_newest_first(self, freelancer, client_user):
        send(freelancer, "Older", minutes_ago=10)
        send(freelancer, "Newer", minutes_ago=1)
        send(client_user, "Someone else's")

        response = browser_for(freelancer).get(reverse("accounts:inbox"))

        assert titles(response) == ["Newer", "Older"]
        assert b"Someone else" not in response.content
        assert b"About Newer" in response.content

    def test_highlights_the_unread_ones(self, freelancer):
        unread = send(freelancer, "Unread one")
        read = send(freelancer, "Read one")
        Notification.objects.filter(pk=read.pk).update(read_at=timezone.now())

        html = browser_for(freelancer).get(reverse("accounts:inbox")).content.decode()

        assert f'class="inbox-item inbox-unread" id="notification-{unread.pk}"' in html
        assert f'class="inbox-item" id="notification-{read.pk}"' in html
        assert reverse("accounts:notification-read", args=[unread.pk]) in html
        assert reverse("accounts:notification-read", args=[read.pk]) not in html

    def test_pages_through_many_notifications(self, freelancer):
        for number in range(25):
            send(freelancer, f"Notice {number:02}", minutes_ago=number)
        browser = browser_for(freelancer)

        first = browser.get(reverse("accounts:inbox"))
        second = browser.get(reverse("accounts:inbox"), {"page": 2})

        assert titles(first) == [f"Notice {n:02}" for n in range(20)]
        assert titles(second) == [f"Notice {n:02}" for n in range(20, 25)]
        assert b"Page 2 of 2" in second.content

    def test_says_so_when_empty(self, freelancer):
        response = browser_for(freelancer).get(reverse("accounts:inbox"))

        assert b"Nothing here yet" in response.content


class TestUnreadCountInTheNav:
    def test_shows_the_users_unread_count(self, freelancer, client_user):
        send(freelancer, "One")
        send(freelancer, "Two")
        send(client_user, "Not mine")

        response = browser_for(freelancer).get(reverse("contracts:history"))

        assert b'<span class="nav-badge" aria-label="2 unread">2</span>' in response.content

    def test_shows_no_badge_when_everything_is_read(self, freelancer):
        Notification.objects.filter(pk=send(freelancer, "Done").pk).update(read_at=timezone.now())

        response = browser_for(freelancer).get(reverse("contracts:history"))

        assert b"nav-badge" not in response.content
        assert reverse("accounts:inbox").encode() in response.content

    def test_costs_one_count_query(self, freelancer):
        send(freelancer, "One")
        browser = browser_for(freelancer)

        with CaptureQueriesContext(connection) as queries:
            browser.get(reverse("accounts:inbox"))

        counts = [
            q["sql"]
            for q in queries.captured_queries
            if "COUNT(" in q["sql"] and "read_at" in q["sql"]
        ]
        assert len(counts) == 1


class TestMarkRead:
    def test_marks_one_notification_read_and_returns_to_the_inbox(self, freelancer):
        notification = send(freelancer, "One")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-read", args=[notification.pk]),
            {"next": reverse("accounts:inbox") + "?page=1"},
        )

        notification.refresh_from_db()
        assert notification.read_at is not None
        assert response["Location"] == reverse("accounts:inbox") + "?page=1"

    def test_does_not_follow_a_next_address_off_the_site(self, freelancer):
        notification = send(freelancer, "One")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-read", args=[notification.pk]),
            {"next": "https://evil.example/"},
        )

        assert response["Location"] == reverse("accounts:inbox")

    def test_is_404_for_someone_elses_notification(self, freelancer, client_user):
        notification = send(client_user, "Not yours")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-read", args=[notification.pk])
        )

        assert response.status_code == 404
        notification.refresh_from_db()
        assert notification.read_at is None

    def test_a_get_is_405(self, freelancer):
        notification = send(freelancer, "One")

        response = browser_for(freelancer).get(
            reverse("accounts:notification-read", args=[notification.pk])
        )

        assert response.status_code == 405


class TestOpenNotification:
    def test_marks_it_read_and_follows_its_link(self, freelancer):
        notification = send(freelancer, "Refund request", url="/refund-requests/7/")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-open", args=[notification.pk])
        )

        notification.refresh_from_db()
        assert notification.read_at is not None
        assert response["Location"] == "/refund-requests/7/"

    def test_never_redirects_off_the_site(self, freelancer):
        notification = send(freelancer, "Odd", url="//evil.example/")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-open", args=[notification.pk])
        )

        assert response["Location"] == reverse("accounts:inbox")

    def test_is_404_for_someone_elses_notification(self, freelancer, client_user):
        notification = send(client_user, "Not yours")

        response = browser_for(freelancer).post(
            reverse("accounts:notification-open", args=[notification.pk])
        )

        assert response.status_code == 404

    def test_a_get_is_405(self, freelancer):
        notification = send(freelancer, "One")

        response = browser_for(freelancer).get(
            reverse("accounts:notification-open", args=[notification.pk])
        )

        assert response.status_code == 405


class TestMarkAllRead:
    def test_marks_only_the_users_own_notifications_read(self, freelancer, client_user):
        send(freelancer, "One")
        send(freelancer, "Two")
        others = send(client_user, "Not mine")

        response = browser_for(freelancer).post(reverse("accounts:inbox-read-all"), follow=True)

        assert not Notification.objects.filter(user=freelancer, read_at__isnull=True).exists()
        others.refresh_from_db()
        assert others.read_at is None
        assert shown_messages(response) == ["Marked 2 notifications as read."]
        assert b"nav-badge" not in response.content

    def test_says_when_nothing_was_unread(self, freelancer):
        response = browser_for(freelancer).post(reverse("accounts:inbox-read-all"), follow=True)

        assert shown_messages(response) == ["Nothing was unread."]

    def test_a_get_is_405(self, freelancer):
        response = browser_for(freelancer).get(reverse("accounts:inbox-read-all"))

        assert response.status_code == 405
