from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from disputes import services as disputes
from disputes.models import Dispute, TimelineEvent
from mediation import services
from mediation.models import Resolution
from tests.kit import (
    ContractFactory,
    UserFactory,
    end_contract,
    file_dispute,
    staff_member,
)

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 10, 5, 9, 0, tzinfo=timezone.UTC)
QUEUE = reverse("admin:mediation_mediationqueueitem_changelist")


def case_url(dispute, action=None):
    if action is None:
        return reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])
    return reverse(f"admin:mediation_mediationqueueitem_{action}", args=[dispute.pk])


def in_mediation(contract=None, *, declined_at, evidence=()):
    """A dispute on 300 of 500 that its client declined at ``declined_at``."""
    contract = contract or ContractFactory()
    dispute = file_dispute(
        end_contract(contract, now=declined_at), evidence=evidence, now=declined_at
    )
    return disputes.dispute_decline(
        dispute=dispute,
        actor=contract.client,
        reason="Only three of the five pages were delivered.",
        now=declined_at,
    )


def html(response) -> str:
    return response.content.decode()


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def dispute(contract):
    return in_mediation(
        contract,
        declined_at=timezone.now() - timedelta(hours=5),
        evidence=[SimpleUploadedFile("delivery.pdf", b"%PDF-1.4 five pages")],
    )


class TestQueueAccess:
    def test_an_agent_finds_the_queue_on_the_admin_index_and_opens_it(self, agent_client):
        index = agent_client.get(reverse("admin:index"))
        queue = agent_client.get(QUEUE)

        assert QUEUE in html(index)
        assert queue.status_code == 200

    def test_a_superuser_opens_the_queue(self, client):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))

        assert client.get(QUEUE).status_code == 200

    def test_a_party_is_sent_to_the_admin_login(self, client, contract, dispute):
        client.force_login(contract.freelancer)

        for url in (QUEUE, case_url(dispute)):
            response = client.get(url)
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("admin:login"))

    @pytest.mark.parametrize("role", [Role.ARBITRATOR, Role.SUPPORT])
    def test_other_staff_neither_see_nor_open_it(self, client, dispute, role):
        client.force_login(staff_member(role))

        index = client.get(reverse("admin:index"))

        assert QUEUE not in html(index)
        assert client.get(QUEUE).status_code == 403
        assert client.get(case_url(dispute)).status_code == 403
        assert client.post(case_url(dispute, "note"), {"text": "Hello"}).status_code == 403
        assert not TimelineEvent.objects.filter(kind=TimelineEvent.Kind.INTERNAL_NOTE).exists()

    def test_no_staff_role_gets_change_rights_on_any_admin_page(self, rf):
        users = [staff_member(Role.MEDIATION_AGENT), staff_member(Role.ARBITRATOR)]

        for user in users:
            request = rf.get("/admin/")
            request.user = user
            for model, model_admin in admin.site._registry.items():
                assert not model_admin.has_add_permission(request), model
                assert not model_admin.has_change_permission(request), model
                assert not model_admin.has_delete_permission(request), model


class TestQueueList:
    def test_lists_disputes_waiting_for_mediation_oldest_decline_first(self, agent, agent_client):
        now = timezone.now()
        newer = in_mediation(declined_at=now - timedelta(hours=2))
        older = in_mediation(declined_at=now - timedelta(days=1))
        proposed = in_mediation(declined_at=now - timedelta(days=3))
        services.resolution_propose(
            dispute=proposed,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=now,
        )
        file_dispute(end_contract(ContractFactory()))  # waiting for the client: not listed

        response = agent_client.get(QUEUE)

        listed = [row.pk for row in response.context["cl"].result_list]
        assert listed == [proposed.pk, older.pk, newer.pk]

    def test_shows_the_time_since_decline_and_highlights_a_breached_service_level(
        self, agent_client
    ):
        late = in_mediation(declined_at=START)
        on_time = in_mediation(declined_at=START + timedelta(days=2))

        with time_machine.travel(START + timedelta(days=2, hours=3), tick=False):
            response = agent_client.get(QUEUE)

        page = html(response)
        assert "2 days 3 hours" in page
        assert page.count("sla-breached") == 1
        assert "Breached" in page
        assert "Due in 1 day 21 hours" in page
        rows = response.context["cl"].result_list
        assert [row.pk for row in rows] == [late.pk, on_time.pk]

    def test_the_service_level_is_not_breached_at_the_instant_it_falls_due(self, agent_client):
        in_mediation(declined_at=START)

        with time_machine.travel(START + timedelta(days=2), tick=False):
            page = html(agent_client.get(QUEUE))

        assert "sla-breached" not in page

    def test_a_resolution_proposed_in_time_shows_the_service_level_met(self, agent, agent_client):
        dispute = in_mediation(declined_at=START)
        services.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=START + timedelta(hours=20),
        )

        with time_machine.travel(START + timedelta(days=3), tick=False):
            page = html(agent_client.get(QUEUE))

        assert "sla-met" in page
        assert "proposed after 20 hours" in page
        assert "sla-breached" not in page

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"age": "lt1"}, ["fresh"]),
            ({"age": "1to2"}, ["day_old"]),
            ({"age": "gt2"}, ["stale", "proposed"]),
            ({"breach": "yes"}, ["stale"]),
            ({"breach": "no"}, ["proposed", "day_old", "fresh"]),
            ({"stage": "RESOLUTION_PROPOSED"}, ["proposed"]),
            ({"stage": "IN_MEDIATION"}, ["stale", "day_old", "fresh"]),
            ({"assignee": "me"}, ["proposed", "day_old"]),
            ({"assignee": "none"}, ["stale", "fresh"]),
        ],
    )
    def test_filters_by_stage_age_breach_and_agent(self, agent, agent_client, query, expected):
        disputes_by_name = {
            "stale": in_mediation(declined_at=START),
            "proposed": in_mediation(declined_at=START + timedelta(hours=1)),
            "day_old": in_mediation(declined_at=START + timedelta(days=2)),
            "fresh": in_mediation(declined_at=START + timedelta(days=3, hours=1)),
        }
        services.resolution_propose(
            dispute=disputes_by_name["proposed"],
            agent=agent,
            to_freelancer="100.00",
            to_client="200.00",
            rationale="Two pages of five were missing.",
            now=START + timedelta(hours=2),
        )
        disputes.dispute_assign(
            dispute=disputes_by_name["day_old"], staff=agent, role="agent", now=START
        )
        names = {d.pk: name for name, d in disputes_by_name.items()}

        with time_machine.travel(START + timedelta(days=3, hours=12), tick=False):
            response = agent_client.get(QUEUE, query)

        assert [names[row.pk] for row in response.context["cl"].result_list] == expected

    def test_the_agent_filter_lists_each_agent(self, agent, agent_client):
        other = staff_member(Role.MEDIATION_AGENT, "otto-agent")
        mine = in_mediation(declined_at=START)
        theirs = in_mediation(declined_at=START)
        disputes.dispute_assign(dispute=mine, staff=agent, role="agent", now=START)
        disputes.dispute_assign(dispute=theirs, staff=other, role="agent", now=START)

        response = agent_client.get(QUEUE, {"assignee": str(other.pk)})

        assert "otto-agent" in html(response)
        assert [row.pk for row in response.context["cl"].result_list] == [theirs.pk]

    def test_assign_to_me_takes_the_selected_disputes(self, agent, agent_client, dispute):
        response = agent_client.post(
            QUEUE, {"action": "assign_to_me", "_selected_action": [dispute.pk]}, follow=True
        )

        dispute.refresh_from_db()
        assert dispute.agent == agent
        assert f"Assigned to you: {dispute}." in html(response)
        assert TimelineEvent.objects.filter(
            dispute=dispute, kind=TimelineEvent.Kind.AGENT_ASSIGNED
        ).exists()

    def test_runs_a_fixed_number_of_queries_whatever_the_number_of_disputes(
        self, agent, agent_client
    ):
        in_mediation(declined_at=START)
        agent_client.get(QUEUE)  # warm the session and content-type caches
        with CaptureQueriesContext(connection) as one:
            agent_client.get(QUEUE)
        for _ in range(4):
            dispute = in_mediation(declined_at=START)
            disputes.dispute_assign(dispute=dispute, staff=agent, role="agent", now=START)

        with CaptureQueriesContext(connection) as five:
            response = agent_client.get(QUEUE)

        assert len(response.context["cl"].result_list) == 5
        assert len(five) == len(one)


class TestCasePage:
    def test_shows_both_filings_the_decline_the_evidence_and_internal_notes(
        self, agent, agent_client, contract, dispute
    ):
        disputes.dispute_note_add(
            dispute=dispute, author=agent, text="Client sounded reasonable.", now=timezone.now()
        )
        evidence = dispute.evidence.get()

        response = agent_client.get(case_url(dispute))

        page = html(response)
        assert response.status_code == 200
        assert "Non-payment" in page
        assert "all five were delivered on time" in page  # the freelancer's description
        assert "Stopped answering after the second delivery." in page  # blind feedback
        assert "Only three of the five pages were delivered." in page  # the decline reason
        assert evidence.get_absolute_url() in page
        assert evidence.sha256 in page
        assert "Client sounded reasonable." in page
        assert "badge-internal" in page
        assert "250.00 USD" in page  # D
        assert "300.00 USD" in page  # R
        assert "Service level: propose a resolution by <strong>" in page

    def test_the_parties_never_see_the_internal_notes(self, agent, contract, dispute, client):
        disputes.dispute_note_add(
            dispute=dispute, author=agent, text="Client sounded reasonable.", now=timezone.now()
        )

        for party in (contract.client, contract.freelancer):
            client.force_login(party)
            page = client.get(reverse("disputes:dispute", args=[dispute.pk]))
            assert page.status_code == 200
            assert "Client sounded reasonable." not in html(page)

    def test_an_unknown_dispute_is_not_found(self, agent_client):
        assert agent_client.get(case_url(Dispute(pk=999_999))).status_code == 404

    def test_the_page_answers_get_only_on_its_form_urls(self, agent_client, dispute):
        assert agent_client.get(case_url(dispute, "propose")).status_code == 405

    def test_shows_the_proposed_resolution_and_the_parties_answers(
        self, agent, agent_client, contract, dispute
    ):
        now = timezone.now()
        services.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="120.00",
            to_client="180.00",
            rationale="Three of five pages.",
            now=now,
        )
        services.resolution_answer(dispute=dispute, actor=contract.freelancer, accept=True, now=now)

        page = html(agent_client.get(case_url(dispute)))

        assert "120.00 USD</strong> to the freelancer" in page
        assert "Three of five pages." in page
        assert "Freelancer’s answer</dt><dd>Accepted" in page
        assert "Client’s answer</dt><dd>No answer" in page
        assert 'action="' + case_url(dispute, "propose") not in page
        assert 'action="' + case_url(dispute, "extend") in page


class TestProposeForm:
    def test_moves_the_dispute_to_resolution_proposed(self, agent, agent_client, dispute):
        response = agent_client.post(
            case_url(dispute, "propose"),
            {"to_freelancer": "180.00", "to_client": "120.00", "rationale": "Four of five."},
        )

        dispute.refresh_from_db()
        resolution = dispute.resolutions.get()
        assert response.status_code == 302
        assert response["Location"] == case_url(dispute)
        assert dispute.status == Dispute.Status.RESOLUTION_PROPOSED
        assert dispute.agent == agent
        assert (resolution.to_freelancer, resolution.to_client) == (180, 120)
        assert "Resolution proposed" in html(agent_client.get(case_url(dispute)))

    def test_a_split_that_does_not_add_up_shows_the_error_and_changes_nothing(
        self, agent_client, dispute
    ):
        response = agent_client.post(
            case_url(dispute, "propose"),
            {"to_freelancer": "180.00", "to_client": "100.00", "rationale": "Four of five."},
        )

        dispute.refresh_from_db()
        page = html(response)
        assert response.status_code == 400
        assert page.count("The two shares must add up to 300.00 USD, to the cent.") == 1
        assert 'value="180.00"' in page  # the agent's input is kept
        assert dispute.status == Dispute.Status.IN_MEDIATION
        assert not Resolution.objects.exists()

    def test_a_missing_rationale_is_a_field_error(self, agent_client, dispute):
        response = agent_client.post(
            case_url(dispute, "propose"), {"to_freelancer": "150.00", "to_client": "150.00"}
        )

        assert response.status_code == 400
        assert "This field is required." in html(response)
        assert not Resolution.objects.exists()

    def test_says_the_split_must_add_up_to_r(self, agent_client, dispute):
        page = html(agent_client.get(case_url(dispute)))

        assert "The two shares must add up to exactly 300.00 USD." in page
        assert "binding at once" not in page

    def test_warns_that_a_small_claim_is_binding_at_once(self, settings, agent_client, dispute):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "500.00"

        page = html(agent_client.get(case_url(dispute)))

        assert "binding at once" in page

    def test_an_arbitrator_cannot_propose(self, client, dispute):
        client.force_login(staff_member(Role.ARBITRATOR))

        response = client.post(
            case_url(dispute, "propose"),
            {"to_freelancer": "150.00", "to_client": "150.00", "rationale": "Half."},
        )

        dispute.refresh_from_db()
        assert response.status_code == 403
        assert dispute.status == Dispute.Status.IN_MEDIATION


class TestExtendForm:
    @pytest.fixture
    def proposed(self, agent, dispute):
        services.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=timezone.now(),
        )
        dispute.refresh_from_db()
        return dispute

    def test_moves_the_parties_deadline_with_a_reason_on_the_timeline(self, agent_client, proposed):
        new_due = (proposed.response_due_at + timedelta(days=2)).replace(second=0, microsecond=0)
        local = new_due.astimezone(UTC)  # the agent's time zone
        page = html(agent_client.get(case_url(proposed)))

        response = agent_client.post(
            case_url(proposed, "extend"),
            {"due_at": local.strftime("%Y-%m-%dT%H:%M"), "reason": "The client is travelling."},
        )

        proposed.refresh_from_db()
        assert "time to accept or reject the proposed resolution" in page
        assert response.status_code == 302
        assert proposed.response_due_at == new_due
        event = proposed.timeline.get(kind=TimelineEvent.Kind.DEADLINE_EXTENDED)
        assert "The client is travelling." in event.note
        assert not event.internal

    def test_reads_the_date_in_the_agents_time_zone(self, agent, agent_client, proposed):
        agent.time_zone = "Asia/Tokyo"
        agent.save()
        new_due = proposed.response_due_at + timedelta(days=2)
        tokyo = new_due.astimezone(ZoneInfo("Asia/Tokyo"))

        agent_client.post(
            case_url(proposed, "extend"),
            {"due_at": tokyo.strftime("%Y-%m-%dT%H:%M"), "reason": "Travelling."},
        )

        proposed.refresh_from_db()
        assert proposed.response_due_at == new_due.replace(second=0, microsecond=0)

    def test_refuses_an_earlier_deadline_and_changes_nothing(self, agent_client, proposed):
        due = proposed.response_due_at
        earlier = (due - timedelta(hours=1)).astimezone(UTC)  # the agent's time zone

        response = agent_client.post(
            case_url(proposed, "extend"),
            {"due_at": earlier.strftime("%Y-%m-%dT%H:%M"), "reason": "Why not."},
        )

        proposed.refresh_from_db()
        assert response.status_code == 400
        assert "The new deadline must be later than the current one." in html(response)
        assert proposed.response_due_at == due

    def test_is_not_offered_while_the_agent_is_the_one_who_must_act(self, agent_client, dispute):
        response = agent_client.post(
            case_url(dispute, "extend"),
            {"due_at": "2099-01-01T00:00", "reason": "Because."},
        )

        assert 'action="' + case_url(dispute, "extend") not in html(
            agent_client.get(case_url(dispute))
        )
        assert response.status_code == 409
        assert "no party deadline runs" in html(response)


class TestNoteAndAssignForms:
    def test_an_agent_adds_an_internal_note(self, agent, agent_client, dispute):
        response = agent_client.post(case_url(dispute, "note"), {"text": "Call the client."})

        note = dispute.timeline.get(kind=TimelineEvent.Kind.INTERNAL_NOTE)
        assert response.status_code == 302
        assert (note.note, note.internal, note.actor) == ("Call the client.", True, agent)

    def test_an_empty_note_is_refused(self, agent_client, dispute):
        response = agent_client.post(case_url(dispute, "note"), {"text": "   "})

        assert response.status_code == 400
        assert not dispute.timeline.filter(kind=TimelineEvent.Kind.INTERNAL_NOTE).exists()

    def test_assign_to_me_from_the_case_page(self, agent, agent_client, dispute):
        before = html(agent_client.get(case_url(dispute)))

        agent_client.post(case_url(dispute, "assign"))

        dispute.refresh_from_db()
        after = html(agent_client.get(case_url(dispute)))
        assert dispute.agent == agent
        assert "Assign to me" in before
        assert "Assign to me" not in after
        assert "You took" in after


class TestReadOnlyResolutions:
    def test_staff_browse_resolutions_but_cannot_change_them(self, agent, agent_client, dispute):
        resolution = services.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer="150.00",
            to_client="150.00",
            rationale="Half each.",
            now=timezone.now(),
        )

        listing = agent_client.get(reverse("admin:mediation_resolution_changelist"))
        change = agent_client.get(
            reverse("admin:mediation_resolution_change", args=[resolution.pk])
        )

        assert listing.status_code == 200
        assert change.status_code == 200
        assert 'name="_save"' not in html(change)
