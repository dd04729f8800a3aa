"""The parties' side of mediation on See Dispute: the proposed resolution and their answers.

The story: the client funds 500, ends the contract paying 200 (R = 300), the freelancer disputes
250, the client declines, and a mediation agent proposes 180 to the freelancer, 120 to the client.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core import deadlines
from disputes.models import Dispute
from mediation import services
from mediation.models import Resolution
from tests.kit import (
    browser_for,
    declined_dispute,
    reload,
    shown_messages,
    suspend,
)

pytestmark = pytest.mark.django_db

RATIONALE = "Four of the five pages were delivered; the fifth was late."
REJECT_WARNING = "Rejecting leads to a Notice of Non-Resolution; the money stays in escrow."


def accept_url(dispute: Dispute) -> str:
    return reverse("resolution:accept", args=[dispute.pk])


def reject_url(dispute: Dispute) -> str:
    return reverse("resolution:reject", args=[dispute.pk])


@pytest.fixture
def in_mediation(contract) -> Dispute:
    return declined_dispute(contract)


@pytest.fixture
def dispute(in_mediation, agent) -> Dispute:
    """The agent proposed 180.00 to the freelancer and 120.00 to the client."""
    services.resolution_propose(
        dispute=in_mediation,
        agent=agent,
        to_freelancer="180.00",
        to_client="120.00",
        rationale=RATIONALE,
        now=timezone.now(),
    )
    return reload(in_mediation)


def answer(dispute: Dispute, party: User, *, accept: bool = True) -> None:
    services.resolution_answer(dispute=dispute, actor=party, accept=accept, now=timezone.now())


class TestResolutionPanel:
    @pytest.mark.parametrize("party", ["freelancer", "client_user"])
    def test_shows_each_party_the_split_the_rationale_the_answers_and_the_deadline(
        self, dispute, party, request
    ):
        response = browser_for(request.getfixturevalue(party)).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert response.status_code == 200
        assert "Proposed resolution" in html and "Non-binding" in html
        assert "180.00 USD" in html and "120.00 USD" in html
        assert RATIONALE in html
        assert html.count("badge-answer-waiting") == 2
        assert "Both parties&#x27; time to accept or reject the proposed resolution" in html
        assert "your move" in html and "data-countdown" in html
        assert accept_url(dispute) in html and reject_url(dispute) in html
        assert REJECT_WARNING in html

    def test_says_both_parties_are_awaited_to_staff(self, dispute, agent):
        response = browser_for(agent).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert "waiting for both parties" in html
        assert accept_url(dispute) not in html

    def test_shows_the_answer_given_and_asks_only_the_other_party(
        self, dispute, freelancer, client_user
    ):
        answer(dispute, freelancer)

        as_freelancer = browser_for(freelancer).get(dispute.get_absolute_url())
        as_client = browser_for(client_user).get(dispute.get_absolute_url())

        for response in (as_freelancer, as_client):
            assert "badge-answer-accepted" in response.content.decode()
            assert response.content.decode().count("badge-answer-waiting") == 1
        freelancer_html = as_freelancer.content.decode()
        assert accept_url(dispute) not in freelancer_html
        assert "You accepted the resolution. If carol-client accepts it too by" in freelancer_html
        assert as_freelancer.context["deadline"].yours is False
        assert as_freelancer.context["deadline"].party == "the client"
        client_html = as_client.content.decode()
        assert accept_url(dispute) in client_html
        assert "frank-freelancer has accepted already" in client_html
        assert as_client.context["deadline"].yours is True
        assert "The client&#x27;s time to accept or reject" in client_html

    def test_offers_no_answer_to_a_suspended_party(self, dispute, client_user):
        suspend(client_user)

        response = browser_for(client_user).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert "Your account is suspended" in html
        assert RATIONALE in html
        assert accept_url(dispute) not in html and reject_url(dispute) not in html

    def test_offers_no_answer_once_the_deadline_has_passed(self, dispute, client_user):
        with time_machine.travel(dispute.response_due_at, tick=False):
            response = browser_for(client_user).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert "the time is up" in html
        assert accept_url(dispute) not in html

    def test_is_not_shown_before_an_agent_proposes(self, in_mediation, client_user):
        response = browser_for(client_user).get(in_mediation.get_absolute_url())

        assert response.status_code == 200
        assert "Proposed resolution" not in response.content.decode()

    def test_stays_with_both_answers_after_a_rejection(self, dispute, freelancer, client_user):
        answer(dispute, freelancer)
        answer(dispute, client_user, accept=False)

        response = browser_for(freelancer).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert "badge-answer-accepted" in html and "badge-answer-rejected" in html
        assert RATIONALE in html
        assert accept_url(dispute) not in html
        assert "Notice of Non-Resolution" in html

    def test_shows_a_silent_party_as_no_answer_once_expired(self, dispute, freelancer):
        answer(dispute, freelancer)
        deadlines.sweep("mediation.resolutions_expire", now=dispute.response_due_at, batch_size=10)

        response = browser_for(freelancer).get(dispute.get_absolute_url())

        html = response.content.decode()
        assert "Not answered in time" in html and "No answer" in html

    def test_shows_a_binding_small_claim_decision(self, settings, in_mediation, agent, client_user):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "1000.00"
        services.resolution_propose(
            dispute=in_mediation,
            agent=agent,
            to_freelancer="100.00",
            to_client="200.00",
            rationale="Small claim: one page of five.",
            now=timezone.now(),
        )

        response = browser_for(client_user).get(in_mediation.get_absolute_url())

        html = response.content.decode()
        assert "The mediation agent's decision" in html
        assert "decided by the mediation agent (small claim)" in html
        assert accept_url(in_mediation) not in html


class TestResolutionAccept:
    def test_records_the_answer_and_says_what_happens_next(self, dispute, freelancer):
        response = browser_for(freelancer).post(accept_url(dispute), follow=True)

        [message] = shown_messages(response)
        assert message.startswith("You accepted the resolution. If carol-client accepts it too")
        assert "180.00 USD to you and 120.00 USD to carol-client" in message
        resolution = Resolution.objects.get(dispute=dispute)
        assert resolution.freelancer_answer == Resolution.Answer.ACCEPTED
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED
        assert "Resolution accepted" in response.content.decode()  # on the timeline

    def test_both_accepting_moves_the_money_and_closes_the_dispute(
        self, dispute, freelancer, client_user
    ):
        answer(dispute, freelancer)

        response = browser_for(client_user).post(accept_url(dispute), follow=True)

        [message] = shown_messages(response)
        assert message.startswith("You accepted the proposed resolution. Both parties have")
        dispute = reload(dispute)
        assert dispute.status == Dispute.Status.CLOSED
        assert (dispute.to_freelancer, dispute.to_client) == (Decimal("180.00"), Decimal("120.00"))
        html = response.content.decode()
        assert "both parties accepted the resolution" in html
        assert "Paid to the freelancer" in html

    def test_refuses_to_answer_twice(self, dispute, freelancer):
        answer(dispute, freelancer)

        response = browser_for(freelancer).post(accept_url(dispute), follow=True)

        assert shown_messages(response) == ["You have already answered this resolution."]
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_refuses_once_the_deadline_has_passed(self, dispute, freelancer):
        with time_machine.travel(dispute.response_due_at, tick=False):
            response = browser_for(freelancer).post(accept_url(dispute), follow=True)

        [message] = shown_messages(response)
        assert message.startswith("The time to answer this resolution ended ")
        assert Resolution.objects.get(dispute=dispute).freelancer_answer == ""

    def test_accepts_the_instant_before_the_deadline(self, dispute, freelancer):
        with time_machine.travel(dispute.response_due_at - timedelta(seconds=1), tick=False):
            browser_for(freelancer).post(accept_url(dispute))

        assert Resolution.objects.get(dispute=dispute).freelancer_answer == "ACCEPTED"

    def test_refuses_a_suspended_party(self, dispute, freelancer):
        suspend(freelancer)

        response = browser_for(freelancer).post(accept_url(dispute), follow=True)

        assert shown_messages(response) == [
            "Your account is suspended: you can read, but not take actions."
        ]
        assert Resolution.objects.get(dispute=dispute).freelancer_answer == ""

    def test_refuses_staff_who_are_not_a_party(self, dispute, agent):
        response = browser_for(agent).post(accept_url(dispute), follow=True)

        assert shown_messages(response) == ["Only the parties answer a proposed resolution."]
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_refuses_a_dispute_with_no_proposal(self, in_mediation, freelancer):
        response = browser_for(freelancer).post(accept_url(in_mediation), follow=True)

        [message] = shown_messages(response)
        assert message == (
            "This dispute is in mediation: there is no proposed resolution to answer."
        )

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).post(accept_url(dispute))

        assert response.status_code == 404
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED


class TestResolutionReject:
    def test_issues_the_notice_and_opens_the_arbitration_window(self, dispute, client_user):
        response = browser_for(client_user).post(reject_url(dispute), follow=True)

        [message] = shown_messages(response)
        assert message.startswith("You rejected the proposed resolution. A Notice of Non-Resol")
        dispute = reload(dispute)
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
        assert Resolution.objects.get(dispute=dispute).status == Resolution.Status.REJECTED
        html = response.content.decode()
        assert "The client rejected the proposed resolution." in html
        assert "Agree to arbitration and pay" in html

    def test_refuses_once_the_deadline_has_passed(self, dispute, client_user):
        with time_machine.travel(dispute.response_due_at, tick=False):
            response = browser_for(client_user).post(reject_url(dispute), follow=True)

        assert shown_messages(response)[0].startswith("The time to answer this resolution ended")
        # What the deadline gives, even before the sweep: the Notice of Non-Resolution.
        assert reload(dispute).status == Dispute.Status.ARBITRATION_WINDOW

    def test_refuses_a_party_who_accepted_already(self, dispute, client_user):
        answer(dispute, client_user)

        response = browser_for(client_user).post(reject_url(dispute), follow=True)

        assert shown_messages(response) == ["You have already answered this resolution."]
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_refuses_a_suspended_party(self, dispute, client_user):
        suspend(client_user)

        browser_for(client_user).post(reject_url(dispute))

        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_is_404_for_a_stranger(self, dispute, stranger):
        response = browser_for(stranger).post(reject_url(dispute))

        assert response.status_code == 404
        assert reload(dispute).status == Dispute.Status.RESOLUTION_PROPOSED


class TestActionUrls:
    @pytest.mark.parametrize("name", ["resolution:accept", "resolution:reject"])
    def test_a_get_is_405(self, dispute, client_user, name):
        response = browser_for(client_user).get(reverse(name, args=[dispute.pk]))

        assert response.status_code == 405

    @pytest.mark.parametrize("name", ["resolution:accept", "resolution:reject"])
    def test_an_unknown_dispute_is_404(self, client_user, name):
        response = browser_for(client_user).post(reverse(name, args=[999999]))

        assert response.status_code == 404

    def test_anonymous_visitors_are_sent_to_log_in(self, client, dispute):
        response = client.post(accept_url(dispute))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


class TestContractHistoryHints:
    def hints(self, user: User) -> list[tuple[str, bool]]:
        response = browser_for(user).get(reverse("contracts:history"))
        return [
            (item.hint, item.your_turn)
            for row in response.context["rows"]
            for item in row.milestones
        ]

    def test_asks_both_parties_to_answer_the_resolution(self, dispute, freelancer, client_user):
        for party in (freelancer, client_user):
            assert self.hints(party) == [("Answer the proposed resolution", True)]

    def test_tells_who_answered_that_the_other_party_is_awaited(
        self, dispute, freelancer, client_user
    ):
        answer(dispute, freelancer)

        assert self.hints(freelancer) == [
            ("Waiting for the client to answer the resolution", False)
        ]
        assert self.hints(client_user) == [("Answer the proposed resolution", True)]

    def test_stops_asking_once_the_deadline_has_passed(self, dispute, freelancer):
        with time_machine.travel(dispute.response_due_at, tick=False):
            hints = self.hints(freelancer)

        assert hints == [("Resolution proposed", False)]
