"""Escalation: a breached mediation service level is flagged and told once (the sweep door)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from core import deadlines
from disputes.models import Dispute, TimelineEvent
from mediation import services as mediation
from tests import kit
from tests.factories import declined_dispute

pytestmark = pytest.mark.django_db

MICROSECOND = timedelta(microseconds=1)
SWEEP = "mediation.service_level_breaches"


@pytest.fixture
def ann(auto_assign):
    return kit.agent("ann")


@pytest.fixture
def sue():
    return kit.support("sue")


def _breach_notices() -> list[tuple[str, int]]:
    return sorted(
        Notification.objects.filter(kind="service_level_breached").values_list(
            "user__username", "user_id"
        )
    )


class TestServiceLevelBreach:
    def test_is_not_flagged_the_instant_before_the_service_level(self, ann, sue):
        dispute = declined_dispute(kit.ContractFactory())

        deadlines.sweep(SWEEP, now=dispute.service_level_due_at - MICROSECOND)

        assert kit.reload(dispute).service_level_breached_at is None
        assert _breach_notices() == []

    def test_is_flagged_once_and_told_once_however_often_the_sweep_runs(self, ann, sue):
        dispute = declined_dispute(kit.ContractFactory())
        due = kit.reload(dispute).service_level_due_at
        assert due == dispute.declined_at + timedelta(days=2)

        first = deadlines.enforce_deadlines(now=due)
        second = deadlines.enforce_deadlines(now=due + timedelta(days=1))

        assert first[SWEEP] == 1
        assert second[SWEEP] == 0
        assert kit.reload(dispute).service_level_breached_at == due
        assert [name for name, _ in _breach_notices()] == ["ann", "sue"]
        assert (
            TimelineEvent.objects.filter(
                dispute=dispute, kind=TimelineEvent.Kind.SERVICE_LEVEL_BREACHED, internal=True
            ).count()
            == 1
        )

    def test_an_unassigned_case_tells_support(self, sue):
        dispute = declined_dispute(kit.ContractFactory())

        deadlines.sweep(SWEEP, now=dispute.service_level_due_at)

        assert [name for name, _ in _breach_notices()] == ["sue"]

    def test_a_proposal_in_time_is_never_flagged(self, ann, sue):
        dispute = declined_dispute(kit.ContractFactory())
        mediation.resolution_propose(
            dispute=dispute,
            agent=ann,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=dispute.service_level_due_at - MICROSECOND,
        )

        deadlines.enforce_deadlines(now=dispute.service_level_due_at + timedelta(days=1))

        assert kit.reload(dispute).service_level_breached_at is None
        assert _breach_notices() == []

    def test_a_late_proposal_finds_the_breach_flagged_first(self, ann, sue):
        dispute = declined_dispute(kit.ContractFactory())
        late = dispute.service_level_due_at + timedelta(hours=1)

        mediation.resolution_propose(
            dispute=dispute,
            agent=ann,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=late,
        )
        deadlines.enforce_deadlines(now=late)

        dispute = kit.reload(dispute)
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED
        assert dispute.service_level_breached_at == late
        assert [name for name, _ in _breach_notices()] == ["ann", "sue"]


class TestEscalatedOnTheStaffPages:
    def test_the_escalated_case_tops_the_queue_and_the_statistics_count_it(self, client, ann):
        now = timezone.now()
        # Declined first, answered in time: still in the queue, waiting for the parties.
        answered = kit.proposed(kit.ContractFactory(), ann, now=now - timedelta(days=5))
        escalated = declined_dispute(kit.ContractFactory(), now=now - timedelta(days=3))
        deadlines.sweep(SWEEP, now=now)
        assert kit.reload(answered).service_level_breached_at is None
        client.force_login(ann)

        queue = client.get(reverse("admin:mediation_mediationqueueitem_changelist"))
        stats = client.get(reverse("mediation:statistics"))

        assert [d.pk for d in queue.context["cl"].result_list] == [escalated.pk, answered.pk]
        assert stats.context["stats"].breaches_by_agent == [("ann", 1)]
        assert sum(n for _, n in stats.context["stats"].breaches_by_week) == 1
        assert "Escalations" in stats.content.decode()
