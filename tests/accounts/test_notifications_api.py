"""The notification inbox through the REST API: only one's own, newest first, marked read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Notification
from accounts.services import Message, notifications_send
from tests.kit import api_as

pytestmark = pytest.mark.django_db


def assert_error(response, status: int, code: str) -> None:
    # Only the status and the code, not the kit's whole error shape.
    assert response.status_code == status, response.content
    assert response.json()["error"]["code"] == code


def send(user, title: str, *, at=None) -> Notification:
    [notification_id] = notifications_send(
        messages=[
            Message(
                user_id=user.pk,
                kind="refund_requested",
                title=title,
                body="Accept the refund or file a dispute.",
                url="/refund-requests/1/",
            )
        ],
        now=at or timezone.now(),
    )
    return Notification.objects.get(pk=notification_id)


class TestNotificationList:
    def test_shows_only_the_users_own_inbox_newest_first_with_the_unread_count(
        self, freelancer, stranger
    ):
        now = timezone.now()
        older = send(freelancer, "Older", at=now - timedelta(hours=1))
        newer = send(freelancer, "Newer", at=now)
        send(stranger, "Not yours", at=now)

        response = api_as(freelancer).get("/api/v1/notifications/")

        assert response.status_code == 200
        body = response.json()
        assert list(body) == ["count", "unread", "next", "previous", "results"]
        assert body["count"] == 2
        assert body["unread"] == 2
        assert [n["id"] for n in body["results"]] == [newer.pk, older.pk]
        assert body["results"][0] == {
            "id": newer.pk,
            "kind": "refund_requested",
            "title": "Newer",
            "body": "Accept the refund or file a dispute.",
            "url": "/refund-requests/1/",
            "created_at": now.isoformat().replace("+00:00", "Z"),
            "read_at": None,
        }

    def test_counts_every_unread_notification_not_only_those_on_the_page(self, freelancer):
        for index in range(3):
            send(freelancer, f"Note {index}")

        body = api_as(freelancer).get("/api/v1/notifications/?page_size=1").json()

        assert len(body["results"]) == 1
        assert body["unread"] == 3

    def test_requires_a_login(self, db):
        assert_error(APIClient().get("/api/v1/notifications/"), 401, "not_authenticated")

    def test_uses_as_many_queries_for_12_notifications_as_for_2(
        self, freelancer, django_assert_max_num_queries
    ):
        api = api_as(freelancer)
        for index in range(2):
            send(freelancer, f"Note {index}")
        with CaptureQueriesContext(connection) as two:
            assert len(api.get("/api/v1/notifications/").json()["results"]) == 2
        for index in range(10):
            send(freelancer, f"More {index}")

        with django_assert_max_num_queries(len(two.captured_queries)):
            response = api.get("/api/v1/notifications/")

        assert len(response.json()["results"]) == 12


class TestNotificationRead:
    def test_marks_the_notification_read(self, freelancer):
        notification = send(freelancer, "Refund request")
        api = api_as(freelancer)

        response = api.post(f"/api/v1/notifications/{notification.pk}/read/")

        assert response.status_code == 200, response.content
        assert response.json()["read_at"].endswith("Z")
        assert api.get("/api/v1/notifications/").json()["unread"] == 0

    def test_marking_twice_keeps_the_first_time(self, freelancer):
        notification = send(freelancer, "Refund request")
        api = api_as(freelancer)
        first = api.post(f"/api/v1/notifications/{notification.pk}/read/").json()["read_at"]

        again = api.post(f"/api/v1/notifications/{notification.pk}/read/")

        assert again.status_code == 200
        assert again.json()["read_at"] == first

    def test_is_not_found_for_someone_elses_notification(self, freelancer, stranger):
        notification = send(freelancer, "Refund request")

        response = api_as(stranger).post(f"/api/v1/notifications/{notification.pk}/read/")

        assert_error(response, 404, "not_found")
        notification.refresh_from_db()
        assert notification.read_at is None


class TestNotificationReadAll:
    def test_marks_only_the_users_own_notifications_read(self, freelancer, stranger):
        send(freelancer, "One")
        send(freelancer, "Two")
        theirs = send(stranger, "Not yours")

        response = api_as(freelancer).post("/api/v1/notifications/read-all/")

        assert response.status_code == 200
        assert response.json() == {"marked": 2, "unread": 0}
        assert not Notification.objects.filter(user=freelancer, read_at__isnull=True).exists()
        theirs.refresh_from_db()
        assert theirs.read_at is None
