"""Deadlines at their edges: nothing 1 µs before, everything at the instant; reminders once."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Notification
from contracts.models import Milestone
from core import deadlines
from core.tasks import enforce_deadlines as enforce_deadlines_task
from disputes.models import Dispute, RefundRequest, TimelineEvent
from tests.kit import ContractFactory, end_contract, file_dispute, make_milestone

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 5, 4, 12, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)


def reminders(user, title_part):
    return list(
        Notification.objects.filter(
            user=user,
            kind__in=["deadline_reminder", "auto_release_reminder"],
            title__contains=title_part,
        )
    )


class TestRefundRequestDeadline:
    def test_nothing_happens_one_microsecond_before_it(self, contract):
        request = end_contract(contract, now=START)

        counts = deadlines.enforce_deadlines(now=request.response_due_at - MICROSECOND)

        request.refresh_from_db()
        assert request.status == RefundRequest.Status.OPEN
        assert counts["disputes.refund_requests_expire"] == 0

    def test_the_refund_happens_at_the_deadline(self, contract):
        request = end_contract(contract, now=START)

        counts = deadlines.enforce_deadlines(now=request.response_due_at)

        request.refresh_from_db()
        assert request.status == RefundRequest.Status.EXPIRED
        assert counts["disputes.refund_requests_expire"] == 1
        event = TimelineEvent.objects.get(kind=TimelineEvent.Kind.REFUND_EXPIRED)
        assert event.actor is None
        assert event.amounts == {"refunded": "300.00"}

    def test_running_the_sweep_again_changes_nothing(self, contract):
        request = end_contract(contract, now=START)
        deadlines.enforce_deadlines(now=request.response_due_at)
        events = TimelineEvent.objects.count()
        notifications = Notification.objects.count()

        counts = deadlines.enforce_deadlines(now=request.response_due_at + timedelta(days=3))

        assert sum(counts.values()) == 0
        assert TimelineEvent.objects.count() == events
        assert Notification.objects.count() == notifications

    def test_the_freelancer_cannot_answer_at_the_deadline(self, contract):
        from core.errors import DeadlinePassed
        from disputes import services

        request = end_contract(contract, now=START)
        late = end_contract(
            ContractFactory(client=contract.client, freelancer=contract.freelancer), now=START
        )

        services.refund_request_accept(
            refund_request=request,
            actor=contract.freelancer,
            now=request.response_due_at - MICROSECOND,
        )
        with pytest.raises(DeadlinePassed):
            services.refund_request_accept(
                refund_request=late, actor=contract.freelancer, now=late.response_due_at
            )

        request.refresh_from_db()
        late.refresh_from_db()
        assert request.status == RefundRequest.Status.ACCEPTED
        # A late answer gets what the deadline gives: the refund, by the deadline.
        assert late.status == RefundRequest.Status.EXPIRED

    def test_the_freelancer_is_reminded_48_and_24_hours_before_each_once(self, contract):
        request = end_contract(contract, now=START)
        due = request.response_due_at

        deadlines.enforce_deadlines(now=due - timedelta(hours=48) - MICROSECOND)
        before_48 = len(reminders(contract.freelancer, "hours left"))
        deadlines.enforce_deadlines(now=due - timedelta(hours=48))
        deadlines.enforce_deadlines(now=due - timedelta(hours=30))
        after_48 = [n.title for n in reminders(contract.freelancer, "hours left")]
        deadlines.enforce_deadlines(now=due - timedelta(hours=24))
        deadlines.enforce_deadlines(now=due - timedelta(hours=1))

        titles = [n.title for n in reminders(contract.freelancer, "hours left")]
        assert before_48 == 0
        assert after_48 == ["48 hours left to answer a refund request"]
        assert sorted(titles) == [
            "24 hours left to answer a refund request",
            "48 hours left to answer a refund request",
        ]
        assert reminders(contract.client, "hours left") == []

    def test_after_a_long_downtime_only_the_nearest_reminder_goes_out(self, contract):
        request = end_contract(contract, now=START)

        deadlines.enforce_deadlines(now=request.response_due_at - timedelta(hours=2))

        titles = [n.title for n in reminders(contract.freelancer, "hours left")]
        assert titles == ["24 hours left to answer a refund request"]


class TestClientAnswerDeadline:
    def test_nothing_happens_one_microsecond_before_it(self, contract):
        dispute = file_dispute(end_contract(contract, now=START), now=START + timedelta(days=1))

        deadlines.enforce_deadlines(now=dispute.response_due_at - MICROSECOND)

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.AWAITING_CLIENT

    def test_the_disputed_amount_is_released_at_the_deadline(self, contract):
        dispute = file_dispute(
            end_contract(contract, now=START), amount="120.00", now=START + timedelta(days=1)
        )

        deadlines.enforce_deadlines(now=dispute.response_due_at)

        dispute.refresh_from_db()
        assert dispute.response_due_at == START + timedelta(days=6)
        assert dispute.status == Dispute.Status.CLOSED
        assert (dispute.to_freelancer, dispute.to_client) == (Decimal("120.00"), Decimal("180.00"))

    def test_the_client_is_reminded_48_and_24_hours_before_each_once(self, contract):
        dispute = file_dispute(end_contract(contract, now=START), now=START + timedelta(days=1))
        due = dispute.response_due_at

        for hours in (49, 48, 47, 24, 23, 2):
            deadlines.enforce_deadlines(now=due - timedelta(hours=hours))

        titles = sorted(n.title for n in reminders(contract.client, "hours left"))
        assert titles == [
            "24 hours left to answer a dispute",
            "48 hours left to answer a dispute",
        ]


class TestAutoReleaseDeadline:
    def test_nothing_happens_one_microsecond_before_14_days(self, contract):
        with time_machine.travel(START, tick=False):
            milestone = make_milestone(contract, submitted=True)

        deadlines.enforce_deadlines(now=START + timedelta(days=14) - MICROSECOND)

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.SUBMITTED

    def test_the_work_is_released_at_14_days_and_the_client_was_reminded(self, contract):
        with time_machine.travel(START, tick=False):
            milestone = make_milestone(contract, submitted=True)

        for hours in (48, 24):
            deadlines.enforce_deadlines(now=START + timedelta(days=14, hours=-hours))
        deadlines.enforce_deadlines(now=START + timedelta(days=14))

        milestone.refresh_from_db()
        assert milestone.status == Milestone.Status.RELEASED
        assert sorted(n.title for n in reminders(contract.client, "hours left")) == [
            f"24 hours left to review “{milestone.title}”",
            f"48 hours left to review “{milestone.title}”",
        ]

    def test_a_release_by_the_client_first_leaves_nothing_for_the_sweep(self, contract):
        from contracts import services

        with time_machine.travel(START, tick=False):
            milestone = make_milestone(contract, submitted=True)
        services.milestone_release(
            milestone=milestone, actor=contract.client, now=START + timedelta(days=1)
        )

        counts = deadlines.enforce_deadlines(now=START + timedelta(days=20))

        assert counts["contracts.auto_release"] == 0


class TestTheEntryPoints:
    def test_the_command_runs_one_sweep(self, contract, capsys):
        with time_machine.travel(START, tick=False):
            request = end_contract(contract, now=START)

        with time_machine.travel(request.response_due_at, tick=False):
            call_command("enforce_deadlines")

        request.refresh_from_db()
        assert request.status == RefundRequest.Status.EXPIRED
        assert "Handled 1 due row(s)." in capsys.readouterr().out

    def test_the_beat_task_runs_the_same_sweep(self, contract):
        request = end_contract(contract, now=START)

        with time_machine.travel(request.response_due_at, tick=False):
            counts = enforce_deadlines_task.delay().get()

        request.refresh_from_db()
        assert request.status == RefundRequest.Status.EXPIRED
        assert counts["disputes.refund_requests_expire"] == 1

    def test_the_beat_schedule_runs_the_task_every_minute(self, settings):
        from config import celery_app

        entry = celery_app.conf.beat_schedule["enforce-deadlines"]

        assert entry["task"] == "core.tasks.enforce_deadlines"
        assert entry["schedule"] == 60.0
