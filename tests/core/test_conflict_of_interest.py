"""Nobody decides their own case: staff who are a party are refused, through every door.

A client hires a staff member as the freelancer. That staff member, a mediation agent and an
arbitrator, may not assign, propose, decide a small claim, extend, note, read internal notes,
request evidence or award on the contract's dispute; another staff member may. And whoever
mediated a dispute never arbitrates it.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from arbitration import services as arbitration
from core.errors import ConflictOfInterest
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation import services as mediation
from tests.kit import (
    ContractFactory,
    UserFactory,
    agent,
    api_as,
    arbitrator,
    assert_error,
    books,
    browser_for,
    case,
    declined,
    grant,
)

pytestmark = pytest.mark.django_db

PROPOSAL = {"to_freelancer": "200.00", "to_client": "100.00", "rationale": "Most was delivered."}


@pytest.fixture
def staff_freelancer(db):
    """A mediation agent and arbitrator, hired as the freelancer on a contract."""
    user = UserFactory(username="sam-staff")
    grant(user, Role.MEDIATION_AGENT)
    grant(user, Role.ARBITRATOR)
    return user


@pytest.fixture
def own_contract(staff_freelancer):
    return ContractFactory(client=UserFactory(username="cleo-client"), freelancer=staff_freelancer)


@pytest.fixture
def own_dispute(own_contract):
    """The staff member's own dispute, declined by the client: in mediation."""
    return declined(own_contract)


def internal_notes(dispute) -> int:
    return TimelineEvent.objects.filter(dispute=dispute, internal=True).count()


class TestThroughTheServices:
    def test_a_party_cannot_propose_on_their_own_dispute_while_another_agent_can(
        self, staff_freelancer, own_dispute
    ):
        with pytest.raises(ConflictOfInterest):
            mediation.resolution_propose(
                dispute=own_dispute, agent=staff_freelancer, now=timezone.now(), **PROPOSAL
            )
        assert Dispute.objects.get(pk=own_dispute.pk).status == Dispute.Status.IN_MEDIATION

        mediation.resolution_propose(
            dispute=own_dispute, agent=agent("other-agent"), now=timezone.now(), **PROPOSAL
        )

        assert Dispute.objects.get(pk=own_dispute.pk).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_a_party_cannot_decide_their_own_small_claim(
        self, settings, staff_freelancer, own_dispute
    ):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "1000.00"
        earned = books(own_dispute.refund_request.contract)["freelancer earned"]

        with pytest.raises(ConflictOfInterest):
            mediation.resolution_propose(
                dispute=own_dispute,
                agent=staff_freelancer,
                to_freelancer="300.00",
                to_client="0.00",
                rationale="I did it all.",
                now=timezone.now(),
            )

        assert books(own_dispute.refund_request.contract)["freelancer earned"] == earned

    @pytest.mark.parametrize(
        "act",
        [
            lambda d, u, now: disputes.dispute_assign(dispute=d, staff=u, role="agent", now=now),
            lambda d, u, now: disputes.dispute_note_add(
                dispute=d, author=u, text="Mine.", now=now
            ),
        ],
        ids=["assign", "note"],
    )
    def test_a_party_can_neither_take_nor_note_their_own_case(
        self, staff_freelancer, own_dispute, act
    ):
        events = TimelineEvent.objects.count()

        with pytest.raises(ConflictOfInterest):
            act(own_dispute, staff_freelancer, timezone.now())

        assert TimelineEvent.objects.count() == events
        assert Dispute.objects.get(pk=own_dispute.pk).agent is None

    def test_a_party_cannot_extend_their_own_deadline(self, staff_freelancer, own_contract):
        other = agent("other-agent")
        dispute = declined(own_contract)
        mediation.resolution_propose(dispute=dispute, agent=other, now=timezone.now(), **PROPOSAL)
        dispute.refresh_from_db()
        due = dispute.response_due_at

        with pytest.raises(ConflictOfInterest):
            disputes.dispute_extend(
                dispute=dispute,
                actor=staff_freelancer,
                due_at=due + timedelta(days=3),
                reason="I need more time.",
                now=timezone.now(),
            )

        assert Dispute.objects.get(pk=dispute.pk).response_due_at == due

    def test_a_party_cannot_award_or_ask_for_evidence_in_their_own_case(
        self, staff_freelancer, own_contract
    ):
        open_case = case(own_contract, agent("other-agent"))

        with pytest.raises(ConflictOfInterest):
            arbitration.award_issue(
                dispute=open_case,
                arbitrator=staff_freelancer,
                to_freelancer="300.00",
                to_client="0.00",
                reasons="Mine.",
                now=timezone.now(),
            )
        with pytest.raises(ConflictOfInterest):
            arbitration.evidence_request_create(
                dispute=open_case,
                arbitrator=staff_freelancer,
                party="client",
                message="Prove it.",
                due_at=timezone.now() + timedelta(days=2),
                now=timezone.now(),
            )

        assert Dispute.objects.get(pk=open_case.pk).status == Dispute.Status.IN_ARBITRATION
        arbitration.award_issue(
            dispute=open_case,
            arbitrator=arbitrator("other-arbitrator"),
            to_freelancer="150.00",
            to_client="150.00",
            reasons="Half each.",
            now=timezone.now(),
        )
        assert Dispute.objects.get(pk=open_case.pk).outcome == Dispute.Outcome.AWARDED

    def test_whoever_mediated_a_dispute_does_not_arbitrate_it(self, contract):
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)
        open_case = case(contract, both)

        with pytest.raises(ConflictOfInterest):
            disputes.dispute_assign(
                dispute=open_case, staff=both, role="arbitrator", now=timezone.now()
            )
        with pytest.raises(ConflictOfInterest):
            arbitration.award_issue(
                dispute=open_case,
                arbitrator=both,
                to_freelancer="300.00",
                to_client="0.00",
                reasons="As I proposed.",
                now=timezone.now(),
            )


class TestThroughTheApi:
    def test_a_party_is_refused_403_conflict_of_interest_and_sees_no_internal_notes(
        self, staff_freelancer, own_dispute
    ):
        disputes.dispute_note_add(
            dispute=own_dispute, author=agent("other-agent"), text="Secret.", now=timezone.now()
        )
        api = api_as(staff_freelancer)

        proposal = api.post(f"/api/v1/disputes/{own_dispute.pk}/resolution/", PROPOSAL)
        note = api.post(f"/api/v1/disputes/{own_dispute.pk}/notes/", {"text": "Mine."})
        timeline = api.get(f"/api/v1/disputes/{own_dispute.pk}/timeline/")

        assert_error(proposal, 403, "conflict_of_interest")
        assert_error(note, 403, "conflict_of_interest")
        assert timeline.status_code == 200
        assert "INTERNAL_NOTE" not in [e["kind"] for e in timeline.json()["results"]]
        assert internal_notes(own_dispute) == 1

    def test_another_agent_proposes_through_the_api(self, own_dispute):
        response = api_as(agent("other-agent")).post(
            f"/api/v1/disputes/{own_dispute.pk}/resolution/", PROPOSAL
        )

        assert response.status_code in (200, 201), response.content
        assert Dispute.objects.get(pk=own_dispute.pk).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_an_arbitrator_who_mediated_is_refused_the_award(self, contract):
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)
        open_case = case(contract, both)

        response = api_as(both).post(
            f"/api/v1/disputes/{open_case.pk}/award/",
            {"to_freelancer": "300.00", "to_client": "0.00", "reasons": "As I proposed."},
        )

        assert_error(response, 403, "conflict_of_interest")
        assert Dispute.objects.get(pk=open_case.pk).status == Dispute.Status.IN_ARBITRATION


class TestThroughTheAdmin:
    def test_the_queue_does_not_offer_a_staff_member_their_own_case(
        self, staff_freelancer, own_dispute, contract
    ):
        someone_elses = declined(contract)
        browser = browser_for(staff_freelancer)

        page = browser.get(reverse("admin:mediation_mediationqueueitem_changelist"))

        listed = [row.pk for row in page.context["cl"].result_list]
        assert listed == [someone_elses.pk]

    def test_the_case_page_says_why_and_offers_no_action(self, staff_freelancer, own_dispute):
        disputes.dispute_note_add(
            dispute=own_dispute, author=agent("other-agent"), text="Secret.", now=timezone.now()
        )
        url = reverse("admin:mediation_mediationqueueitem_change", args=[own_dispute.pk])

        page = browser_for(staff_freelancer).get(url)

        html = page.content.decode()
        assert page.status_code == 403
        assert "You are a party to this contract" in html
        assert "Secret." not in html
        assert "Propose a resolution" not in html

    def test_posting_the_form_anyway_changes_nothing_and_shows_nothing(
        self, staff_freelancer, own_dispute
    ):
        disputes.dispute_note_add(
            dispute=own_dispute, author=agent("other-agent"), text="Secret.", now=timezone.now()
        )
        url = reverse("admin:mediation_mediationqueueitem_propose", args=[own_dispute.pk])

        response = browser_for(staff_freelancer).post(url, PROPOSAL)

        assert response.status_code == 403
        assert "Secret." not in response.content.decode()
        assert Dispute.objects.get(pk=own_dispute.pk).status == Dispute.Status.IN_MEDIATION

    def test_the_arbitration_page_of_a_case_one_mediated_hides_award_and_says_why(
        self, contract
    ):
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)
        open_case = case(contract, both)
        url = reverse("admin:arbitration_arbitrationqueueitem_change", args=[open_case.pk])

        page = browser_for(both).get(url)
        queue = browser_for(both).get(reverse("admin:arbitration_arbitrationqueueitem_changelist"))

        assert page.status_code == 200
        assert "You mediated this dispute" in page.content.decode()
        assert "award" not in page.context["forms"]
        assert "assign" not in page.context["forms"]
        assert list(queue.context["cl"].result_list) == []


class TestTheMoney:
    def test_a_refused_staff_party_moved_no_money(self, staff_freelancer, own_dispute):
        before = books(own_dispute.refund_request.contract)

        for body in (PROPOSAL, {**PROPOSAL, "to_freelancer": "300.00", "to_client": "0.00"}):
            api_as(staff_freelancer).post(f"/api/v1/disputes/{own_dispute.pk}/resolution/", body)

        assert books(own_dispute.refund_request.contract) == before
        assert before["escrow"] == Decimal("300.00")
