"""Reminders under a backlog: each row gets only the reminder of the window it is in, once."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Notification
from core import deadlines
from disputes.models import RefundRequest
from tests.kit import ContractFactory, UserFactory, end_contract

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 5, 4, 12, 0, tzinfo=timezone.UTC)


def reminder_titles() -> Counter:
    return Counter(
        Notification.objects.filter(kind="deadline_reminder").values_list("title", flat=True)
    )


class TestReminderBacklog:
    @pytest.fixture
    def requests(self):
        client, freelancer = UserFactory(), UserFactory()
        return [
            end_contract(ContractFactory(client=client, freelancer=freelancer), now=START)
            for _ in range(300)
        ]

    def test_rows_due_within_24_hours_get_the_24_hour_reminder_only_once_each(self, requests):
        due = requests[0].response_due_at
        late = due - timedelta(hours=23)

        deadlines.enforce_deadlines(now=late, batch_size=100)
        first = reminder_titles()
        deadlines.enforce_deadlines(now=late + timedelta(minutes=1), batch_size=100)

        assert first == {"24 hours left to answer a refund request": 300}
        assert reminder_titles() == first
        per_user = Counter(
            Notification.objects.filter(kind="deadline_reminder").values_list("user_id", flat=True)
        )
        assert per_user == {requests[0].contract.freelancer_id: 300}
        assert not RefundRequest.objects.filter(reminded_24h_at__isnull=True).exists()

    def test_rows_between_24_and_48_hours_get_the_48_hour_reminder_then_the_24_hour_one(
        self, requests
    ):
        due = requests[0].response_due_at

        deadlines.enforce_deadlines(now=due - timedelta(hours=47), batch_size=100)
        at_47 = reminder_titles()
        deadlines.enforce_deadlines(now=due - timedelta(hours=23), batch_size=100)

        assert at_47 == {"48 hours left to answer a refund request": 300}
        assert reminder_titles() == {
            "48 hours left to answer a refund request": 300,
            "24 hours left to answer a refund request": 300,
        }
