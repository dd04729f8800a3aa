"""On PostgreSQL: two sweepers, or a sweeper and an agent, reaching a breached service level at
once; and two cases entering mediation at once."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

import pytest
from django.utils import timezone

from accounts.models import Notification
from accounts.services import user_away_set
from core import deadlines
from disputes import services as disputes
from disputes.models import TimelineEvent
from mediation import services as mediation
from tests import kit
from tests.contracts.test_ledger_postgres import run_at_once
from tests.factories import declined_dispute, end_contract, file_dispute

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("auto_assign"),
]

SWEEP = "mediation.service_level_breaches"


def _told(dispute) -> int:
    return Notification.objects.filter(
        kind="service_level_breached", title__endswith=f"#{dispute.pk}"
    ).count()


def _flags(dispute) -> int:
    return TimelineEvent.objects.filter(
        dispute=dispute, kind=TimelineEvent.Kind.SERVICE_LEVEL_BREACHED
    ).count()


def test_two_sweepers_at_once_flag_and_tell_each_case_once():
    kit.agent("ann")
    kit.support("sue")
    start = timezone.now() - timedelta(days=3)
    cases = [declined_dispute(kit.ContractFactory(), now=start) for _ in range(4)]

    counts = run_at_once(
        partial(deadlines.sweep, SWEEP, now=timezone.now(), batch_size=1),
        partial(deadlines.sweep, SWEEP, now=timezone.now(), batch_size=1),
    )

    assert sum(counts) == 4, counts
    for dispute in cases:
        assert kit.reload(dispute).service_level_breached_at is not None
        assert _flags(dispute) == 1
        assert _told(dispute) == 2  # its agent and Support


def test_a_late_proposal_and_the_sweep_at_once_flag_it_once():
    ann = kit.agent("ann")
    kit.support("sue")
    for _ in range(5):
        dispute = declined_dispute(kit.ContractFactory(), now=timezone.now() - timedelta(days=3))
        now = timezone.now()

        run_at_once(
            partial(
                mediation.resolution_propose,
                dispute=dispute,
                agent=ann,
                to_freelancer="150.00",
                to_client="150.00",
                rationale="Half each.",
                now=now,
            ),
            partial(deadlines.sweep, SWEEP, now=now),
        )

        assert kit.reload(dispute).service_level_breached_at is not None
        assert _flags(dispute) == 1
        assert _told(dispute) == 2


def test_two_cases_entering_mediation_at_once_go_to_two_agents():
    for _ in range(4):
        ann, bob = kit.agent(), kit.agent()
        disputes_ = []
        for _ in range(2):
            contract = kit.ContractFactory()
            request = end_contract(contract, now=timezone.now())
            disputes_.append((contract, file_dispute(request, amount="100.00")))

        run_at_once(
            *(
                partial(
                    disputes.dispute_decline,
                    dispute=dispute,
                    actor=contract.client,
                    reason="No.",
                    now=timezone.now(),
                )
                for contract, dispute in disputes_
            )
        )

        assert {kit.reload(d).agent for _, d in disputes_} == {ann, bob}
        for user in (ann, bob):
            user_away_set(user=user, away=True, now=timezone.now())  # out of the next round
