from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from arbitration import services
from arbitration.models import ArbitrationCase, Award, EvidenceRequest
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from tests import kit
from tests.kit import ContractFactory, UserFactory, declined_dispute, staff_member

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("arbitration_fee_of_50")]

QUEUE = reverse("admin:arbitration_arbitrationqueueitem_changelist")


def case_url(dispute, action=None):
    if action is None:
        return reverse("admin:arbitration_arbitrationqueueitem_change", args=[dispute.pk])
    return reverse(f"admin:arbitration_arbitrationqueueitem_{action}", args=[dispute.pk])


def html(response) -> str:
    return response.content.decode()


def in_arbitration(contract=None, *, at, agent):
    """Declined, resolution rejected by the client, both fees paid at ``at``: a case is open."""
    return kit.case(contract or ContractFactory(), agent, now=at)


@pytest.fixture
def arbitrator_client(client, arbitrator):
    client.force_login(arbitrator)
    return client


@pytest.fixture
def case(contract, agent):
    return in_arbitration(contract, at=timezone.now() - timedelta(hours=3), agent=agent)


def due_in(days: int) -> str:
    """A due date ``days`` ahead, as the arbitrator (time zone UTC) types it."""
    return (timezone.now() + timedelta(days=days)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


class TestQueueAccess:
    def test_only_arbitrators_and_superusers_see_the_queue(self, client, case):
        index = reverse("admin:index")
        for user, allowed in [
            (staff_member(Role.ARBITRATOR), True),
            (UserFactory(is_staff=True, is_superuser=True), True),
            (staff_member(Role.MEDIATION_AGENT), False),
            (staff_member(Role.SUPPORT), False),
        ]:
            client.force_login(user)
            assert (QUEUE in html(client.get(index))) is allowed, user
            assert client.get(QUEUE).status_code == (200 if allowed else 403), user
            assert client.get(case_url(case)).status_code == (200 if allowed else 403), user

    def test_a_party_is_sent_to_the_admin_login(self, client, contract, case):
        client.force_login(contract.client)

        response = client.get(QUEUE)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


class TestQueueList:
    def test_lists_cases_oldest_first_with_arbitrator_and_open_evidence_requests(
        self, agent, arbitrator, arbitrator_client
    ):
        now = timezone.now()
        newer = in_arbitration(at=now - timedelta(hours=1), agent=agent)
        older = in_arbitration(at=now - timedelta(days=2), agent=agent)
        in_mediation_still = declined_dispute(ContractFactory(), now=now)
        services.evidence_request_create(
            dispute=newer,
            arbitrator=arbitrator,
            party="client",
            message="The signed brief, please.",
            due_at=now + timedelta(days=3),
            now=now,
        )

        response = arbitrator_client.get(QUEUE)

        rows = list(response.context["cl"].result_list)
        assert [row.pk for row in rows] == [older.pk, newer.pk]
        assert in_mediation_still.pk not in [row.pk for row in rows]
        assert [row.open_requests for row in rows] == [0, 1]
        assert "1 open" in html(response)
        assert "art-arbitrator" in html(response)

    def test_assign_to_me(self, arbitrator, arbitrator_client, case):
        arbitrator_client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [case.pk]})

        case.refresh_from_db()
        assert case.arbitrator == arbitrator
        assert case.timeline.filter(kind=TimelineEvent.Kind.ARBITRATOR_ASSIGNED).exists()

    def test_filters_by_arbitrator(self, agent, arbitrator, arbitrator_client):
        mine = in_arbitration(at=timezone.now(), agent=agent)
        unassigned = in_arbitration(at=timezone.now(), agent=agent)
        disputes.dispute_assign(
            dispute=mine, staff=arbitrator, role="arbitrator", now=timezone.now()
        )

        me = arbitrator_client.get(QUEUE, {"assignee": "me"})
        nobody = arbitrator_client.get(QUEUE, {"assignee": "none"})

        assert [row.pk for row in me.context["cl"].result_list] == [mine.pk]
        assert [row.pk for row in nobody.context["cl"].result_list] == [unassigned.pk]

    def test_runs_a_fixed_number_of_queries_whatever_the_number_of_cases(
        self, agent, arbitrator_client
    ):
        in_arbitration(at=timezone.now(), agent=agent)
        arbitrator_client.get(QUEUE)
        with CaptureQueriesContext(connection) as one:
            arbitrator_client.get(QUEUE)
        for _ in range(3):
            in_arbitration(at=timezone.now(), agent=agent)

        with CaptureQueriesContext(connection) as four:
            response = arbitrator_client.get(QUEUE)

        assert len(response.context["cl"].result_list) == 4
        assert len(four) == len(one)


class TestCasePage:
    def test_shows_filings_resolution_answers_fees_evidence_and_internal_notes(
        self, agent, arbitrator_client, case
    ):
        disputes.dispute_note_add(
            dispute=case, author=agent, text="Client was curt on the phone.", now=timezone.now()
        )

        page = html(arbitrator_client.get(case_url(case)))

        assert "Stopped answering after the second delivery." in page
        assert "The work was incomplete." in page  # the client's decline
        assert "Half each." in page  # the agent's rationale
        assert "Client’s answer</dt><dd>Rejected" in page
        assert page.count("50.00 USD") >= 2  # both fees
        assert "Client was curt on the phone." in page
        assert "Issue final award" in page
        assert "cannot be changed or appealed" in page


class TestEvidenceRequestForm:
    def test_asks_a_party_for_evidence_by_a_due_date(self, arbitrator, arbitrator_client, case):
        response = arbitrator_client.post(
            case_url(case, "evidence_request"),
            {"party": "freelancer", "message": "Send the delivery e-mails.", "due_at": due_in(3)},
        )

        request = EvidenceRequest.objects.get()
        case.refresh_from_db()
        assert response.status_code == 302
        assert (request.party, request.message) == ("freelancer", "Send the delivery e-mails.")
        assert request.due_at > timezone.now() + timedelta(days=2)
        assert case.arbitrator == arbitrator
        assert "Send the delivery e-mails." in html(arbitrator_client.get(case_url(case)))

    def test_refuses_a_due_date_in_the_past(self, arbitrator_client, case):
        response = arbitrator_client.post(
            case_url(case, "evidence_request"),
            {"party": "client", "message": "The brief.", "due_at": due_in(-1)},
        )

        assert response.status_code == 400
        assert "The due date must be in the future." in html(response)
        assert not EvidenceRequest.objects.exists()


class TestAwardForm:
    def test_issues_the_award_moves_the_money_and_closes_the_case(
        self, arbitrator, arbitrator_client, case
    ):
        response = arbitrator_client.post(
            case_url(case, "award"),
            {"to_freelancer": "210.00", "to_client": "90.00", "reasons": "Most pages delivered."},
            follow=True,
        )

        case.refresh_from_db()
        award = Award.objects.get()
        page = html(response)
        assert case.status == Dispute.Status.CLOSED
        assert case.outcome == Dispute.Outcome.AWARDED
        assert (case.to_freelancer, case.to_client) == (Decimal("210.00"), Decimal("90.00"))
        assert award.arbitrator == arbitrator
        assert award.case.status == ArbitrationCase.Status.AWARDED
        assert "Final award issued" in page
        assert "Most pages delivered." in page
        assert 'data-testid="award"' in page
        assert "Issue final award" not in page
        assert "Request evidence" not in page
        assert 'action="' + case_url(case, "award") not in page

    def test_a_split_that_does_not_add_up_changes_nothing(self, arbitrator_client, case):
        response = arbitrator_client.post(
            case_url(case, "award"),
            {"to_freelancer": "210.00", "to_client": "100.00", "reasons": "Most pages."},
        )

        case.refresh_from_db()
        assert response.status_code == 400
        assert "The two shares must add up to 300.00 USD, to the cent." in html(response)
        assert case.status == Dispute.Status.IN_ARBITRATION
        assert not Award.objects.exists()

    def test_a_second_award_is_refused(self, arbitrator, arbitrator_client, case):
        data = {"to_freelancer": "210.00", "to_client": "90.00", "reasons": "Most pages."}
        arbitrator_client.post(case_url(case, "award"), data)

        again = arbitrator_client.post(
            case_url(case, "award"), {**data, "to_freelancer": "0", "to_client": "300.00"}
        )

        case.refresh_from_db()
        assert again.status_code == 409
        assert case.to_freelancer == Decimal("210.00")
        assert Award.objects.count() == 1

    @pytest.mark.parametrize("role", [Role.MEDIATION_AGENT, Role.SUPPORT])
    def test_other_staff_cannot_issue_an_award(self, client, case, role):
        client.force_login(staff_member(role))

        response = client.post(
            case_url(case, "award"),
            {"to_freelancer": "300.00", "to_client": "0.00", "reasons": "Because."},
        )

        case.refresh_from_db()
        assert response.status_code == 403
        assert case.status == Dispute.Status.IN_ARBITRATION
        assert not Award.objects.exists()


class TestReadOnlyArbitrationAdmin:
    def test_staff_browse_fees_cases_with_requests_and_awards_without_changing_them(
        self, arbitrator, arbitrator_client, case
    ):
        services.evidence_request_create(
            dispute=case,
            arbitrator=arbitrator,
            party="client",
            message="The signed brief.",
            due_at=timezone.now() + timedelta(days=2),
            now=timezone.now(),
        )
        arbitration_case = ArbitrationCase.objects.get()
        fee = case.arbitration_fees.first()

        pages = [
            arbitrator_client.get(reverse("admin:arbitration_arbitrationfee_changelist")),
            arbitrator_client.get(
                reverse("admin:arbitration_arbitrationfee_change", args=[fee.pk])
            ),
            arbitrator_client.get(reverse("admin:arbitration_arbitrationcase_changelist")),
            arbitrator_client.get(
                reverse("admin:arbitration_arbitrationcase_change", args=[arbitration_case.pk])
            ),
        ]

        assert [page.status_code for page in pages] == [200, 200, 200, 200]
        assert "The signed brief." in html(pages[3])
        assert 'name="_save"' not in html(pages[3])
