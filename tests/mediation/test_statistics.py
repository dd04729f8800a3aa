from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from core import deadlines
from disputes import services as disputes
from mediation import selectors, services
from tests.kit import (
    ContractFactory,
    UserFactory,
    declined_dispute,
    draft_dispute,
    end_contract,
    file_dispute,
    staff_member,
)

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 10, 5, 9, 0, tzinfo=timezone.UTC)
URL = reverse("mediation:statistics")
DAY = timedelta(days=1)


def propose(dispute, agent, at):
    return services.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer="150.00",
        to_client="150.00",
        rationale="Half each.",
        now=at,
    )


@pytest.fixture
def agents(db):
    return staff_member(Role.MEDIATION_AGENT, "mia-agent"), staff_member(
        Role.MEDIATION_AGENT, "otto-agent"
    )


@pytest.fixture
def known_set(agents):
    """Five disputes, all filed at START:

    - settled: Mia proposes after 1 day (in time), both accept then: closed after 1 day;
    - late: Otto proposes after 3 days (late), nobody has answered yet;
    - waiting: declined, nobody has taken it;
    - accepted: the client accepts after 2 hours: closed after 2 hours;
    - fresh: waiting for the client.
    """
    mia, otto = agents
    settled = declined_dispute(ContractFactory(), now=START)
    propose(settled, mia, START + DAY)
    contract = settled.refund_request.contract
    for party in (contract.freelancer, contract.client):
        services.resolution_answer(dispute=settled, actor=party, accept=True, now=START + DAY)
    late = declined_dispute(ContractFactory(), now=START)
    propose(late, otto, START + 3 * DAY)
    declined_dispute(ContractFactory(), now=START)
    contract = ContractFactory()
    accepted = file_dispute(end_contract(contract, now=START), now=START)
    disputes.dispute_accept(dispute=accepted, actor=contract.client, now=START + timedelta(hours=2))
    file_dispute(end_contract(ContractFactory(), now=START), now=START)


class TestDisputeStatistics:
    def test_counts_disputes_by_stage_and_outcome(self, known_set):
        stats = selectors.dispute_statistics(service_level=2 * DAY)

        by_stage = {label: n for label, n in stats.by_stage if n}
        by_outcome = {label: n for label, n in stats.by_outcome if n}
        assert by_stage == {
            "Waiting for the client": 1,
            "In mediation": 1,
            "Resolution proposed": 1,
            "Closed": 2,
        }
        assert by_outcome == {
            "The client accepted the dispute": 1,
            "Both parties accepted the resolution": 1,
        }
        assert len(stats.by_stage) == 6  # every stage of a submitted dispute, empty ones with 0

    def test_never_counts_a_draft_or_a_draft_that_lapsed(self, known_set, client):
        draft_dispute(end_contract(ContractFactory(), now=START), now=START)
        lapsing = draft_dispute(end_contract(ContractFactory(), now=START), now=START)
        deadlines.sweep(
            "disputes.refund_requests_expire",
            now=lapsing.refund_request.response_due_at,
            batch_size=10,
        )

        stats = selectors.dispute_statistics(service_level=2 * DAY)

        assert {label for label, _ in stats.by_stage}.isdisjoint({"Draft", "Not submitted in time"})
        assert sum(n for _, n in stats.by_stage) == 5
        assert sum(n for _, n in stats.by_outcome) == 2
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
        page = client.get(URL).content.decode()
        assert '<th scope="row">Draft</th>' not in page
        assert '<th scope="row">Not submitted in time</th>' not in page

    def test_takes_the_median_time_from_filing_to_close(self, known_set):
        stats = selectors.dispute_statistics(service_level=2 * DAY)

        assert stats.closed == 2
        assert stats.median_to_resolution == timedelta(hours=13)  # between 2 hours and 1 day

    def test_measures_each_agents_first_proposals_against_the_service_level(self, known_set):
        stats = selectors.dispute_statistics(service_level=2 * DAY)

        mia, otto = stats.agents
        assert (mia.agent, mia.handled, mia.proposed, mia.within) == ("mia-agent", 1, 1, 1)
        assert (mia.share_within, mia.median_to_proposal) == (1.0, DAY)
        assert (otto.agent, otto.handled, otto.proposed, otto.within) == ("otto-agent", 1, 1, 0)
        assert (otto.share_within, otto.median_to_proposal) == (0.0, 3 * DAY)
        overall = stats.overall
        assert (overall.handled, overall.within, overall.share_within) == (2, 1, 0.5)
        assert overall.median_to_proposal == 2 * DAY

    def test_a_proposal_exactly_at_the_service_level_is_in_time(self, agents):
        dispute = declined_dispute(ContractFactory(), now=START)
        propose(dispute, agents[0], START + 2 * DAY)

        (row,) = selectors.dispute_statistics(service_level=2 * DAY).agents

        assert row.within == 1

    def test_an_empty_database_has_no_medians(self, db):
        stats = selectors.dispute_statistics(service_level=2 * DAY)

        assert stats.median_to_resolution is None
        assert stats.agents == []
        assert stats.overall.share_within is None


class TestStatisticsPage:
    def test_is_for_staff_only(self, client, contract):
        client.force_login(contract.client)

        response = client.get(URL)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    @pytest.mark.parametrize("role", [Role.SUPPORT, Role.MEDIATION_AGENT, Role.ARBITRATOR])
    def test_every_staff_role_reads_it(self, client, role):
        client.force_login(staff_member(role))

        assert client.get(URL).status_code == 200

    def test_shows_the_numbers_in_tables_and_charts(self, client, known_set):
        client.force_login(UserFactory(is_staff=True, is_superuser=True))

        page = client.get(URL).content.decode()

        assert "<svg" in page and 'role="img"' in page
        assert '<th scope="row">Closed</th><td class="num">2</td>' in page
        assert '<th scope="row">In mediation</th><td class="num">1</td>' in page
        assert "13 hours" in page  # median time to resolution
        assert "mia-agent" in page and "100%" in page
        assert "otto-agent" in page and "0%" in page
        assert "50%" in page  # all agents

    def test_is_linked_from_the_admin_index_and_the_queue(self, client):
        client.force_login(staff_member(Role.MEDIATION_AGENT))

        index = client.get(reverse("admin:index")).content.decode()
        queue = client.get(reverse("admin:mediation_mediationqueueitem_changelist"))

        assert URL in index
        assert URL in queue.content.decode()

    def test_runs_a_fixed_number_of_queries_whatever_the_number_of_disputes(self, client, agents):
        client.force_login(agents[0])
        declined_dispute(ContractFactory(), now=START)
        client.get(URL)
        with CaptureQueriesContext(connection) as small:
            client.get(URL)
        for day in range(6):
            dispute = declined_dispute(ContractFactory(), now=START)
            propose(dispute, agents[day % 2], START + day * DAY)

        with CaptureQueriesContext(connection) as larger:
            client.get(URL)

        assert len(larger) == len(small)
