"""Automatic assignment by load, the high-value tier, and reassignment (the service door)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import Role
from accounts.services import user_away_set
from core.errors import DomainError
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from tests import kit
from tests.factories import UserFactory, declined_dispute, end_contract, file_dispute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("auto_assign")]


def _declined_with_r(contract, r: str, *, now=None) -> Dispute:
    """A dispute in mediation whose refund request R is ``r`` (nothing paid on ending)."""
    now = now or timezone.now()
    request = end_contract(contract, paid="0.00", amount=r, now=now)
    dispute = file_dispute(request, amount="100.00", now=now)
    return disputes.dispute_decline(
        dispute=dispute, actor=contract.client, reason="Incomplete.", now=now
    )


class TestAssignmentOrder:
    def test_goes_to_the_fewest_open_cases_in_turns_skipping_away_agents_and_party_staff(self):
        ann, bob, cid = kit.agent("ann"), kit.agent("bob"), kit.agent("cid")
        # A staff member who is the client of every contract below, with no case at all.
        party_staff = kit.agent("pat-party-staff")
        now = timezone.now()
        user_away_set(user=cid, away=True, now=now)

        def next_case(i):
            contract = kit.ContractFactory(client=party_staff, freelancer=UserFactory())
            return declined_dispute(contract, now=now + timedelta(minutes=i))

        first = [next_case(i) for i in range(4)]
        user_away_set(user=cid, away=False, now=now)
        later = [next_case(i) for i in range(4, 7)]

        assigned = [kit.reload(d).agent for d in first + later]
        # Round-robin while ann and bob are level; cid, back with no case, takes the next two;
        # then all three have two, and ann was assigned longest ago.
        assert assigned == [ann, bob, ann, bob, cid, cid, ann]
        assert party_staff not in assigned

    def test_writes_the_assignment_on_the_timeline_as_the_agent_s(self):
        ann = kit.agent("ann")

        dispute = declined_dispute(kit.ContractFactory())

        event = TimelineEvent.objects.get(dispute=dispute, kind=TimelineEvent.Kind.AGENT_ASSIGNED)
        assert event.actor == ann
        assert "Assigned automatically" in event.note
        assert ann.notifications.filter(kind="case_assigned").count() == 1

    def test_leaves_the_case_unassigned_when_nobody_is_available(self):
        away = kit.agent("away")
        user_away_set(user=away, away=True, now=timezone.now())

        dispute = declined_dispute(kit.ContractFactory())

        assert kit.reload(dispute).agent is None
        assert kit.reload(dispute).status == Dispute.Status.IN_MEDIATION

    def test_stays_off_without_the_setting(self, settings):
        settings.AUTO_ASSIGN_CASES = False
        kit.agent("ann")

        dispute = declined_dispute(kit.ContractFactory())

        assert kit.reload(dispute).agent is None

    def test_gives_an_opened_arbitration_case_to_an_arbitrator_who_did_not_mediate_it(self):
        mediator = kit.grant(kit.agent("med"), Role.ARBITRATOR)
        judge = kit.arbitrator("judge")
        contract = kit.ContractFactory()

        dispute = kit.case(contract, mediator)

        assert dispute.agent == mediator
        assert dispute.arbitrator == judge


class TestHighValueTier:
    @pytest.fixture(autouse=True)
    def _limit(self, settings):
        settings.HIGH_VALUE_LIMIT = {"USD": "5000"}

    def test_at_the_limit_goes_only_to_a_senior_agent(self):
        kit.agent("ann")
        senior = kit.grant(kit.agent("sam-senior"), Role.SENIOR_MEDIATION_AGENT)
        kit.agent("bob")

        dispute = _declined_with_r(kit.ContractFactory(), "5000.00")

        assert kit.reload(dispute).agent == senior

    def test_a_cent_below_the_limit_goes_to_any_agent(self):
        ann = kit.agent("ann")
        kit.grant(kit.agent("sam-senior"), Role.SENIOR_MEDIATION_AGENT)

        dispute = _declined_with_r(kit.ContractFactory(), "4999.99")

        assert kit.reload(dispute).agent == ann

    def test_at_the_limit_waits_unassigned_without_a_senior_agent(self):
        kit.agent("ann")

        dispute = _declined_with_r(kit.ContractFactory(), "5000.00")

        assert kit.reload(dispute).agent is None

    def test_refuses_assign_to_me_by_an_agent_outside_the_tier(self):
        ann = kit.agent("ann")
        dispute = _declined_with_r(kit.ContractFactory(), "5000.00")

        with pytest.raises(DomainError) as refused:
            disputes.dispute_assign(dispute=dispute, staff=ann, role="agent", now=timezone.now())

        assert refused.value.code == "high_value_tier"

    def test_another_currency_without_a_limit_has_no_tier(self):
        ann = kit.agent("ann")

        dispute = _declined_with_r(kit.ContractFactory(currency="GBP"), "9000.00")

        assert kit.reload(dispute).agent == ann


class TestReassign:
    def test_moves_the_case_with_the_reason_on_the_timeline(self):
        ann, bob = kit.agent("ann"), kit.agent("bob")
        dispute = declined_dispute(kit.ContractFactory())
        assert kit.reload(dispute).agent == ann

        disputes.dispute_reassign(
            dispute=dispute, actor=ann, role="agent", reason="On leave.", now=timezone.now()
        )

        assert kit.reload(dispute).agent == bob
        event = TimelineEvent.objects.filter(dispute=dispute).latest("pk")
        assert "reassigned the case from ann to bob" in event.note
        assert "On leave." in event.note

    def test_needs_a_reason(self):
        ann = kit.agent("ann")
        kit.agent("bob")
        dispute = declined_dispute(kit.ContractFactory())

        with pytest.raises(DomainError) as refused:
            disputes.dispute_reassign(
                dispute=dispute, actor=ann, role="agent", reason=" ", now=timezone.now()
            )

        assert "reason" in refused.value.fields

    def test_never_to_a_party_of_the_contract(self):
        ann = kit.agent("ann")
        party_staff = kit.agent("pat")
        dispute = declined_dispute(kit.ContractFactory(client=party_staff))

        with pytest.raises(DomainError):
            disputes.dispute_reassign(
                dispute=dispute,
                actor=ann,
                role="agent",
                to=party_staff,
                reason="Try.",
                now=timezone.now(),
            )

        assert kit.reload(dispute).agent == ann
