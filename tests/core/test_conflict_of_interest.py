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
    make_milestone,
    proposed,
    support,
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
            lambda d, u, now: disputes.dispute_note_add(dispute=d, author=u, text="Mine.", now=now),
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

    def test_the_arbitration_page_of_a_case_one_mediated_hides_award_and_says_why(self, contract):
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


class TestWhoeverMediatedNeverArbitrates:
    """Not only the dispute's current agent: anyone who ever took or proposed on it."""

    def test_an_agent_who_handed_the_case_on_is_still_refused_the_award(self, contract):
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)
        dispute = proposed(contract, both)
        disputes.dispute_assign(
            dispute=dispute, staff=agent("ben-agent"), role="agent", now=timezone.now()
        )
        mediation.resolution_answer(
            dispute=dispute, actor=contract.client, accept=False, now=timezone.now()
        )
        for party in (contract.freelancer, contract.client):
            arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=timezone.now())

        response = api_as(both).post(
            f"/api/v1/disputes/{dispute.pk}/award/",
            {"to_freelancer": "300.00", "to_client": "0.00", "reasons": "As I proposed."},
        )

        assert_error(response, 403, "conflict_of_interest")
        assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.IN_ARBITRATION

    def test_proposing_on_another_agents_case_takes_it_on_the_record(self, contract):
        dispute = declined(contract)
        disputes.dispute_assign(
            dispute=dispute, staff=agent("ann-agent"), role="agent", now=timezone.now()
        )
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)

        mediation.resolution_propose(dispute=dispute, agent=both, now=timezone.now(), **PROPOSAL)

        dispute.refresh_from_db()
        assert dispute.agent == both
        assert dispute.mediated_by(both)

    def test_the_arbitrators_queue_leaves_out_a_case_one_ever_mediated(self, contract):
        both = agent("mia-both")
        grant(both, Role.ARBITRATOR)
        dispute = proposed(contract, both)
        disputes.dispute_assign(
            dispute=dispute, staff=agent("ben-agent"), role="agent", now=timezone.now()
        )
        mediation.resolution_answer(
            dispute=dispute, actor=contract.client, accept=False, now=timezone.now()
        )
        for party in (contract.freelancer, contract.client):
            arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=timezone.now())

        queue = browser_for(both).get(reverse("admin:arbitration_arbitrationqueueitem_changelist"))

        assert list(queue.context["cl"].result_list) == []


class TestTheRecordPagesOfTheAdmin:
    def test_a_staff_party_finds_neither_their_dispute_nor_their_refund_request(
        self, staff_freelancer, own_dispute
    ):
        browser = browser_for(staff_freelancer)

        dispute_page = browser.get(reverse("admin:disputes_dispute_change", args=[own_dispute.pk]))
        request_page = browser.get(
            reverse("admin:disputes_refundrequest_change", args=[own_dispute.refund_request_id])
        )
        listing = browser.get(reverse("admin:disputes_dispute_changelist"))

        assert dispute_page.status_code in (302, 404)  # "doesn't exist": back to the list
        assert request_page.status_code in (302, 404)
        assert list(listing.context["cl"].result_list) == []

    def test_support_reads_no_dispute_record(self, own_dispute):
        staff = support("sue-support")

        page = browser_for(staff).get(
            reverse("admin:disputes_dispute_change", args=[own_dispute.pk])
        )

        assert page.status_code == 403


class TestSupportCasesOfOnesOwnContract:
    def test_a_support_member_who_is_the_client_does_not_read_the_case(self, contract):
        milestone = make_milestone(contract, funded=True)
        case_ = disputes.support_case_open(
            milestone=milestone,
            actor=contract.freelancer,
            description="Delivered, not paid.",
            now=timezone.now(),
        )
        grant(contract.client, Role.SUPPORT)
        api = api_as(contract.client)

        assert api.get("/api/v1/support-cases/").json()["count"] == 0
        assert_error(api.get(f"/api/v1/support-cases/{case_.pk}/"), 404, "not_found")
        with pytest.raises(ConflictOfInterest):
            disputes.support_case_close(
                case=case_, actor=contract.client, note="Nothing owed.", now=timezone.now()
            )


class TestSuspension:
    def test_staff_with_a_contract_with_the_account_may_not_suspend_it(self, contract):
        from accounts.services import user_suspend

        grant(contract.client, Role.SUPPORT)

        with pytest.raises(ConflictOfInterest):
            user_suspend(
                user=contract.freelancer, actor=contract.client, reason="x", now=timezone.now()
            )

        contract.freelancer.refresh_from_db()
        assert contract.freelancer.suspended_at is None

    def test_support_suspends_from_the_user_list_and_a_refusal_is_a_message(self, contract):
        staff = support("sue-support")
        grant(contract.client, Role.SUPPORT)
        url = reverse("admin:accounts_user_changelist")

        done = browser_for(staff).post(
            url,
            {
                "action": "suspend",
                "_selected_action": [contract.client.pk],
                "apply": "1",
                "reason": "Ignored the award.",
            },
            follow=True,
        )
        refused = browser_for(contract.client).post(
            url,
            {
                "action": "suspend",
                "_selected_action": [contract.freelancer.pk],
                "apply": "1",
                "reason": "Mine.",
            },
            follow=True,
        )

        contract.client.refresh_from_db()
        contract.freelancer.refresh_from_db()
        assert contract.client.suspended_at is not None
        assert "Suspended 1 account(s)." in done.content.decode()
        assert refused.status_code == 200
        assert contract.freelancer.suspended_at is None
