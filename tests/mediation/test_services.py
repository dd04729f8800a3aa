from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Notification, Role
from accounts.services import AccountSuspended
from contracts.models import LedgerTransaction
from core import deadlines
from core.errors import DeadlinePassed, IllegalTransition, InvalidInput, NotAllowed
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation import services
from mediation.models import Resolution
from tests.kit import declined_dispute, end_contract, file_dispute, staff_member

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 10, 5, 9, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)


@pytest.fixture
def dispute(contract):
    return declined_dispute(contract, now=START)


def propose(dispute, agent, to_freelancer="150.00", to_client="150.00", rationale="Half each."):
    return services.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer=to_freelancer,
        to_client=to_client,
        rationale=rationale,
        now=START,
    )


class TestResolutionPropose:
    def test_opens_a_2_day_answer_window_and_tells_both_parties(self, contract, dispute, agent):
        resolution = propose(dispute, agent)

        dispute.refresh_from_db()
        assert resolution.status == Resolution.Status.PROPOSED
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED
        assert dispute.response_due_at == START + timedelta(days=2)
        assert dispute.agent == agent
        told = Notification.objects.filter(kind="resolution_proposed")
        assert sorted(told.values_list("user__username", flat=True)) == sorted(
            [contract.client.username, contract.freelancer.username]
        )

    @pytest.mark.parametrize(
        ("to_freelancer", "to_client", "code"),
        [
            ("150.00", "149.99", "split_mismatch"),
            ("300.01", "0", "split_mismatch"),
            ("-10.00", "310.00", "invalid_amount"),
            ("150.001", "149.999", "invalid_amount"),
            ("abc", "300.00", "invalid_amount"),
        ],
    )
    def test_refuses_a_split_that_is_not_exact(
        self, dispute, agent, to_freelancer, to_client, code
    ):
        with pytest.raises(InvalidInput) as error:
            propose(dispute, agent, to_freelancer, to_client)

        dispute.refresh_from_db()
        assert error.value.code == code
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert Resolution.objects.count() == 0

    def test_refuses_a_proposal_without_a_rationale(self, dispute, agent):
        with pytest.raises(InvalidInput) as error:
            propose(dispute, agent, rationale="  ")

        assert error.value.code == "rationale_required"

    def test_refuses_a_user_who_is_not_an_agent(self, contract, dispute):
        arbitrator = staff_member(Role.ARBITRATOR)

        for user in (contract.client, contract.freelancer, arbitrator):
            with pytest.raises(services.NotAnAgent):
                propose(dispute, user)

        assert Resolution.objects.count() == 0

    def test_refuses_a_dispute_not_in_mediation(self, contract, agent):
        dispute = file_dispute(end_contract(contract, now=START), now=START)

        with pytest.raises(IllegalTransition):
            propose(dispute, agent)

    def test_refuses_a_second_proposal_while_one_is_open(self, dispute, agent):
        propose(dispute, agent)

        with pytest.raises(IllegalTransition):
            propose(dispute, agent)

    def test_a_suspended_agent_cannot_propose(self, dispute, agent):
        agent.suspended_at = START
        agent.save()

        with pytest.raises(AccountSuspended):
            propose(dispute, agent)


class TestResolutionAnswer:
    def test_one_acceptance_waits_for_the_other_party(self, contract, dispute, agent):
        propose(dispute, agent)

        resolution = services.resolution_answer(
            dispute=dispute, actor=contract.freelancer, accept=True, now=START
        )

        dispute.refresh_from_db()
        assert resolution.status == Resolution.Status.PROPOSED
        assert resolution.freelancer_answer == Resolution.Answer.ACCEPTED
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED
        assert Notification.objects.filter(user=contract.client, kind="resolution_answer").exists()

    def test_refuses_answering_twice(self, contract, dispute, agent):
        propose(dispute, agent)
        services.resolution_answer(
            dispute=dispute, actor=contract.freelancer, accept=True, now=START
        )

        with pytest.raises(services.AlreadyAnswered):
            services.resolution_answer(
                dispute=dispute, actor=contract.freelancer, accept=False, now=START
            )

    def test_refuses_an_answer_at_the_deadline(self, contract, dispute, agent):
        propose(dispute, agent)
        dispute.refresh_from_db()

        with pytest.raises(DeadlinePassed):
            services.resolution_answer(
                dispute=dispute, actor=contract.client, accept=True, now=dispute.response_due_at
            )

    def test_refuses_a_stranger_and_the_agent(self, dispute, agent, stranger):
        propose(dispute, agent)

        for user in (stranger, agent):
            with pytest.raises(NotAllowed):
                services.resolution_answer(dispute=dispute, actor=user, accept=True, now=START)

    def test_refuses_a_suspended_party(self, contract, dispute, agent):
        propose(dispute, agent)
        contract.client.suspended_at = START
        contract.client.save()

        with pytest.raises(AccountSuspended):
            services.resolution_answer(
                dispute=dispute, actor=contract.client, accept=True, now=START
            )


class TestResolutionDeadline:
    def test_nothing_happens_one_microsecond_before_it(self, dispute, agent):
        propose(dispute, agent)
        dispute.refresh_from_db()

        deadlines.enforce_deadlines(now=dispute.response_due_at - MICROSECOND)

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED

    def test_the_parties_who_have_not_answered_are_reminded_24_hours_before(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        services.resolution_answer(dispute=dispute, actor=contract.client, accept=True, now=START)
        dispute.refresh_from_db()

        for hours in (49, 48, 25, 24, 23):
            deadlines.enforce_deadlines(now=dispute.response_due_at - timedelta(hours=hours))

        reminders = Notification.objects.filter(kind="deadline_reminder")
        assert list(reminders.values_list("user__username", "title")) == [
            (contract.freelancer.username, "24 hours left to answer the proposed resolution")
        ]


class TestExtension:
    def test_moves_exactly_the_current_deadline_with_a_reason_both_parties_see(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        dispute.refresh_from_db()
        before = dispute.response_due_at
        request_due = dispute.refund_request.response_due_at

        disputes.dispute_extend(
            dispute=dispute,
            actor=agent,
            due_at=before + timedelta(days=1),
            reason="The client is travelling until Thursday.",
            now=START + timedelta(hours=1),
        )
        deadlines.enforce_deadlines(now=before)

        dispute.refresh_from_db()
        dispute.refund_request.refresh_from_db()
        event = TimelineEvent.objects.get(kind="DEADLINE_EXTENDED")
        assert dispute.response_due_at == before + timedelta(days=1)
        assert dispute.refund_request.response_due_at == request_due
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED
        assert not event.internal
        assert "The client is travelling until Thursday." in event.note
        assert Notification.objects.filter(kind="deadline_extended").count() == 2

    def test_refuses_without_a_reason_an_earlier_date_or_a_non_agent(
        self, contract, dispute, agent
    ):
        propose(dispute, agent)
        dispute.refresh_from_db()
        later = dispute.response_due_at + timedelta(days=1)

        with pytest.raises(InvalidInput):
            disputes.dispute_extend(
                dispute=dispute, actor=agent, due_at=later, reason="", now=START
            )
        with pytest.raises(InvalidInput):
            disputes.dispute_extend(
                dispute=dispute,
                actor=agent,
                due_at=dispute.response_due_at - timedelta(hours=1),
                reason="x",
                now=START,
            )
        with pytest.raises(NotAllowed):
            disputes.dispute_extend(
                dispute=dispute, actor=contract.client, due_at=later, reason="x", now=START
            )

        assert not TimelineEvent.objects.filter(kind="DEADLINE_EXTENDED").exists()

    def test_extends_the_clients_answer_and_re_arms_its_reminders(self, contract, agent):
        dispute = file_dispute(end_contract(contract, now=START), now=START)
        due = dispute.response_due_at
        deadlines.enforce_deadlines(now=due - timedelta(hours=20))

        disputes.dispute_extend(
            dispute=dispute,
            actor=agent,
            due_at=due + timedelta(days=3),
            reason="Public holiday.",
            now=due - timedelta(hours=20),
        )
        deadlines.enforce_deadlines(now=due)
        deadlines.enforce_deadlines(now=due + timedelta(days=3) - timedelta(hours=23))

        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.AWAITING_CLIENT
        titles = sorted(
            Notification.objects.filter(user=contract.client, kind="deadline_reminder").values_list(
                "title", flat=True
            )
        )
        assert titles == ["24 hours left to answer a dispute", "24 hours left to answer a dispute"]


class TestInternalNotes:
    def test_are_written_by_agents_only_and_marked_internal(self, contract, dispute, agent):
        event = disputes.dispute_note_add(
            dispute=dispute, author=agent, text="Called the client.", now=START
        )

        with pytest.raises(NotAllowed):
            disputes.dispute_note_add(
                dispute=dispute, author=contract.freelancer, text="x", now=START
            )

        assert event.internal is True
        assert LedgerTransaction.objects.filter(kind="SETTLEMENT").count() == 0


class TestAssignment:
    def test_assign_to_me(self, dispute, agent):
        disputes.dispute_assign(dispute=dispute, staff=agent, role="agent", now=START)

        dispute.refresh_from_db()
        assert dispute.agent == agent
        assert dispute.agent_assigned_at == START

    def test_only_agents_take_a_mediation_case(self, dispute, contract):
        with pytest.raises(NotAllowed):
            disputes.dispute_assign(dispute=dispute, staff=contract.client, role="agent", now=START)


def test_small_claims_are_off_by_default(settings):
    assert settings.SMALL_CLAIMS_ENABLED is False
    assert Decimal(settings.SMALL_CLAIMS_LIMIT) > 0
