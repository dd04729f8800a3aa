"""The contract history for real histories: what waits for the user first, filters, search,
pages, and a fixed number of queries whatever the history's size (the page and the API)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contracts.models import Contract
from core.actions import _lifecycles, awaiting_contracts
from tests.kit import (
    ContractFactory,
    UserFactory,
    api_as,
    assert_error,
    browser_for,
    dispute_at,
    evidence_request,
    make_milestone,
    refund_request,
)

pytestmark = pytest.mark.django_db

HISTORY = reverse("contracts:history")


def waits_in_sql(contract, user, now) -> bool:
    return Contract.objects.filter(awaiting_contracts(user, now=now), pk=contract.pk).exists()


def waits_by_the_tables(contract, user, now) -> bool:
    """Whether a row of ``contract`` waits for ``user``: ``Lifecycle.awaits`` row by row."""
    for lifecycle in _lifecycles:
        if lifecycle.owner_path or lifecycle.model is None:
            continue
        path = lifecycle.contract_path.replace(".", "__") or "pk"
        lookup = {path: contract} if path != "pk" else {"pk": contract.pk}
        for row in lifecycle.model._base_manager.filter(**lookup):
            if lifecycle.awaits(row, user=user, now=now):
                return True
    return False


def history_titles(response) -> list[str]:
    return [row.contract.title for row in response.context["rows"]]


class TestNeedsMyAction:
    """The SQL that finds to-dos across a history says what the action tables say of each row."""

    @pytest.mark.parametrize(
        ("state", "client_waited", "freelancer_waited"),
        [
            ("pending", True, False),
            ("funded", False, True),
            ("submitted", True, False),
            ("refund_request", False, True),
            ("draft", False, True),
            ("filed", True, False),
            ("declined", False, False),
            ("proposed", True, True),
            ("window", True, True),
            ("case", False, False),
            ("asked", False, True),
            ("awarded", False, False),
        ],
    )
    def test_agrees_with_the_action_tables_before_and_after_the_deadline(
        self, state, client_waited, freelancer_waited, contract, agent, arbitrator
    ):
        now = timezone.now()
        if state in ("pending", "funded", "submitted"):
            make_milestone(contract, funded=state == "funded", submitted=state == "submitted")
        elif state == "refund_request":
            refund_request(contract, now=now)
        elif state == "asked":
            dispute = dispute_at("case", contract, agent=agent, arbitrator=arbitrator, now=now)
            evidence_request(dispute, arbitrator, party="freelancer", now=now)
        else:
            dispute_at(state, contract, agent=agent, arbitrator=arbitrator, now=now)
        later = now + timedelta(days=30)

        for user, waited in (
            (contract.client, client_waited),
            (contract.freelancer, freelancer_waited),
        ):
            assert waits_in_sql(contract, user, now) is waited
            assert waits_by_the_tables(contract, user, now) is waited
            # Past every deadline (before any sweep ran), nothing waits for a person that a
            # deadline decides; a milestone to fund or work to submit has no deadline.
            expected_later = waited and state in ("pending", "funded")
            assert waits_in_sql(contract, user, later) is expected_later
            assert waits_by_the_tables(contract, user, later) is expected_later

    def test_a_party_who_answered_the_resolution_waits_no_more(self, contract, agent):
        from mediation import services as mediation

        now = timezone.now()
        dispute = dispute_at("proposed", contract, agent=agent, now=now)

        mediation.resolution_answer(
            dispute=dispute, actor=contract.freelancer, accept=True, now=now
        )

        assert not waits_in_sql(contract, contract.freelancer, now)
        assert not waits_by_the_tables(contract, contract.freelancer, now)
        assert waits_in_sql(contract, contract.client, now)
        assert waits_by_the_tables(contract, contract.client, now)

    def test_a_party_who_paid_the_fee_waits_no_more(self, contract, agent):
        from arbitration import services as arbitration

        now = timezone.now()
        dispute = dispute_at("window", contract, agent=agent, now=now)

        arbitration.arbitration_fee_pay(dispute=dispute, actor=contract.client, now=now)

        assert not waits_in_sql(contract, contract.client, now)
        assert not waits_by_the_tables(contract, contract.client, now)
        assert waits_in_sql(contract, contract.freelancer, now)

    def test_nothing_waits_for_a_suspended_party(self, contract):
        now = timezone.now()
        make_milestone(contract, submitted=True)  # the client's to release
        contract.client.suspended_at = now
        contract.client.save(update_fields=["suspended_at"])

        assert not waits_in_sql(contract, contract.client, now)
        assert not waits_by_the_tables(contract, contract.client, now)


@pytest.fixture
def history(client_user):
    """Five contracts of ``client_user``: one of each kind the history tells apart."""
    ann = UserFactory(username="ann", first_name="Ann", last_name="Lovelace")
    bob = UserFactory(username="bob", first_name="Bob", last_name="Marley")
    quiet = ContractFactory(client=client_user, freelancer=ann, title="Quiet logo")
    make_milestone(quiet, funded=True)  # waits for the freelancer
    to_release = ContractFactory(client=client_user, freelancer=bob, title="Release the copy")
    make_milestone(to_release, submitted=True)  # waits for the client
    working = ContractFactory(client=bob, freelancer=client_user, title="Working for Bob")
    make_milestone(working, funded=True)  # waits for client_user, the freelancer here
    ended = ContractFactory(client=client_user, freelancer=ann, title="Ended long ago")
    refund_request(ended)  # waits for ann
    disputed = ContractFactory(client=client_user, freelancer=bob, title="Disputed app")
    dispute_at("declined", disputed)  # in mediation: nobody's move
    return {
        "quiet": quiet,
        "to_release": to_release,
        "working": working,
        "ended": ended,
        "disputed": disputed,
    }


class TestContractHistoryPage:
    def test_lists_what_needs_the_users_action_first_then_active_then_ended(
        self, client_user, history
    ):
        response = browser_for(client_user).get(HISTORY)

        assert history_titles(response) == [
            "Working for Bob",
            "Release the copy",
            "Quiet logo",
            "Disputed app",
            "Ended long ago",
        ]
        flags = {row.contract.title: row.needs_action for row in response.context["rows"]}
        assert flags["Release the copy"] and flags["Working for Bob"]
        assert not flags["Quiet logo"] and not flags["Ended long ago"]
        assert response.content.decode().count('data-testid="needs-action"') == 2

    def test_shows_a_suspended_user_nothing_to_do(self, client_user, history):
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])

        response = browser_for(client_user).get(HISTORY)

        html = response.content.decode()
        assert 'data-testid="needs-action"' not in html
        assert "to do</span>" not in html and 'class="pending-action"' not in html
        assert "Release" in html  # the step is still named, as text
        counts = {choice.value: choice.count for choice in response.context["filters"]}
        assert counts["needs_action"] == 0 and counts[""] == 5
        waiting = browser_for(client_user).get(f"{HISTORY}?filter=needs_action")
        assert history_titles(waiting) == []

    @pytest.mark.parametrize(
        ("params", "titles"),
        [
            ("filter=needs_action", ["Working for Bob", "Release the copy"]),
            ("filter=active", ["Working for Bob", "Release the copy", "Quiet logo"]),
            ("filter=in_dispute", ["Disputed app"]),
            ("filter=ended", ["Disputed app", "Ended long ago"]),
            ("role=freelancer", ["Working for Bob"]),
            ("role=client&filter=needs_action", ["Release the copy"]),
            ("q=copy", ["Release the copy"]),
            ("q=LOVELACE", ["Quiet logo", "Ended long ago"]),
            ("q=bob", ["Working for Bob", "Release the copy", "Disputed app"]),
            ("q=ann+logo", ["Quiet logo"]),
            ("filter=nonsense", None),
        ],
    )
    def test_filters_by_state_role_and_search(self, client_user, history, params, titles):
        response = browser_for(client_user).get(f"{HISTORY}?{params}")

        assert response.status_code == 200
        if titles is None:  # an unknown value shows everything, as if it were absent
            assert len(response.context["rows"]) == 5
        else:
            assert history_titles(response) == titles

    def test_a_search_matches_only_the_other_party_not_the_user(self, client_user, history):
        response = browser_for(client_user).get(f"{HISTORY}?q={client_user.username}")

        assert history_titles(response) == []
        assert b"No contracts match" in response.content

    def test_shows_each_filters_count_within_the_chosen_role(self, client_user, history):
        response = browser_for(client_user).get(f"{HISTORY}?role=client")

        counts = {choice.value: choice.count for choice in response.context["filters"]}
        assert counts == {"": 4, "needs_action": 1, "active": 2, "in_dispute": 1, "ended": 2}
        roles = {choice.value: choice.count for choice in response.context["roles"]}
        assert roles == {"": 5, "client": 4, "freelancer": 1}
        assert 'data-testid="filter-needs_action"' in response.content.decode()

    def test_links_keep_the_other_filters(self, client_user, history):
        response = browser_for(client_user).get(f"{HISTORY}?role=client&q=o")

        html = response.content.decode()
        assert 'href="?role=client&amp;q=o&amp;filter=ended"' in html
        assert 'href="?q=o&amp;filter=needs_action"' not in html
        assert '<form method="get" class="history-search"' in html
        assert '<input type="hidden" name="role" value="client">' in html

    def test_pages_by_twenty_with_links_that_keep_the_filters(self, client_user):
        for number in range(23):
            ContractFactory(client=client_user, title=f"Logo {number:02}")
        browser = browser_for(client_user)

        first = browser.get(f"{HISTORY}?filter=active&q=logo")
        second = browser.get(f"{HISTORY}?filter=active&q=logo&page=2")

        assert len(first.context["rows"]) == 20
        assert history_titles(second) == ["Logo 02", "Logo 01", "Logo 00"]
        assert 'href="?filter=active&amp;q=logo&amp;page=2" rel="next"' in first.content.decode()
        assert 'href="?filter=active&amp;q=logo&amp;page=1" rel="prev"' in second.content.decode()


class TestContractListAPI:
    def test_orders_filters_and_searches_as_the_page_does(self, client_user, history):
        api = api_as(client_user)

        everything = api.get("/api/v1/contracts/").json()
        waiting = api.get("/api/v1/contracts/?filter=needs_action&role=client").json()
        found = api.get("/api/v1/contracts/?q=lovelace").json()

        assert [c["title"] for c in everything["results"]] == [
            "Working for Bob",
            "Release the copy",
            "Quiet logo",
            "Disputed app",
            "Ended long ago",
        ]
        assert [c["title"] for c in waiting["results"]] == ["Release the copy"]
        assert waiting["count"] == 1
        assert [c["title"] for c in found["results"]] == ["Quiet logo", "Ended long ago"]

    def test_lists_nothing_as_waiting_for_a_suspended_user(self, client_user, history):
        client_user.suspended_at = timezone.now()
        client_user.save(update_fields=["suspended_at"])

        body = api_as(client_user).get("/api/v1/contracts/?filter=needs_action").json()

        assert body["count"] == 0 and body["results"] == []

    def test_keeps_the_filters_in_the_next_link(self, client_user, history):
        response = api_as(client_user).get("/api/v1/contracts/?filter=active&page_size=2")

        body = response.json()
        assert body["count"] == 3
        assert "filter=active" in body["next"] and "page=2" in body["next"]

    @pytest.mark.parametrize("params", ["filter=everything", "role=agent"])
    def test_refuses_an_unknown_filter_or_role(self, client_user, params):
        response = api_as(client_user).get(f"/api/v1/contracts/?{params}")

        error = assert_error(response, 400, "invalid_choice")
        assert set(error["fields"]) == {params.split("=")[0]}

    def test_documents_the_parameters_in_the_schema(self, client_user):
        response = api_as(client_user).get("/api/schema/?format=json")

        operation = response.json()["paths"]["/api/v1/contracts/"]["get"]
        params = {p["name"]: p for p in operation["parameters"]}
        assert {"filter", "role", "q", "page", "page_size"} <= set(params)
        assert set(params["filter"]["schema"]["enum"]) >= {
            "needs_action",
            "active",
            "in_dispute",
            "ended",
        }
        assert set(params["role"]["schema"]["enum"]) >= {"client", "freelancer"}
        assert "waits for you" in params["filter"]["description"]


class TestFixedQueries:
    """The page and the API read a history of 200 contracts with as many queries as one."""

    @staticmethod
    def add_contracts(user, count: int) -> None:
        for _ in range(count):
            contract = ContractFactory(client=user)
            make_milestone(contract, submitted=True)
            make_milestone(contract, funded=True)

    def test_the_page_and_the_api_at_1_and_200_contracts(self, client_user):
        browser = browser_for(client_user)
        api = api_as(client_user)
        self.add_contracts(client_user, 1)
        browser.get(HISTORY)  # warm the session
        # Each request resets the connection's query log: count before the next one.
        with CaptureQueriesContext(connection) as page_one:
            assert len(browser.get(HISTORY).context["rows"]) == 1
        page_one = len(page_one.captured_queries)
        with CaptureQueriesContext(connection) as api_one:
            assert api.get("/api/v1/contracts/").json()["count"] == 1
        api_one = len(api_one.captured_queries)
        self.add_contracts(client_user, 199)

        browser.get(HISTORY)  # warm the cache: the new rows may have notified the user
        with CaptureQueriesContext(connection) as page_many:
            response = browser.get(HISTORY)
        page_many = len(page_many.captured_queries)
        with CaptureQueriesContext(connection) as api_many:
            body = api.get("/api/v1/contracts/").json()
        api_many = len(api_many.captured_queries)

        assert len(response.context["rows"]) == 20
        assert response.context["page"].paginator.num_pages == 10
        assert body["count"] == 200 and len(body["results"]) == 50
        assert page_many == page_one > 0
        assert api_many == api_one > 0

    def test_the_page_stays_within_a_fixed_budget(self, client_user, django_assert_max_num_queries):
        self.add_contracts(client_user, 25)
        browser = browser_for(client_user)

        with django_assert_max_num_queries(8):
            response = browser.get(f"{HISTORY}?page=2&filter=needs_action")

        assert len(response.context["rows"]) == 5


def reads_contracts(queries) -> bool:
    return any("contracts_contract" in query["sql"] for query in queries.captured_queries)


def the_list(response) -> str:
    """The history's list, without the page around it (which has a nonce of its own)."""
    html = response.content.decode()
    return html[html.index('<div class="page-head">') : html.index("</main>")]


@pytest.mark.kept_lists
class TestKeptUnderTheStamp:
    """Asked again while nothing of the user's changed, the page and the API read none of the
    history; any change to one of the user's cases shows at the next request."""

    def test_the_page_asked_again_reads_no_contract(self, client_user, history):
        browser = browser_for(client_user)
        first = the_list(browser.get(HISTORY))

        with CaptureQueriesContext(connection) as again:
            second = the_list(browser.get(HISTORY))

        assert not reads_contracts(again)
        assert second == first and "Release the copy" in second

    def test_the_api_asked_again_reads_no_contract(self, client_user, history):
        api = api_as(client_user)
        first = api.get("/api/v1/contracts/?filter=active").json()

        with CaptureQueriesContext(connection) as again:
            second = api.get("/api/v1/contracts/?filter=active").json()

        assert not reads_contracts(again)
        assert second == first and second["count"] == 3

    def test_each_filter_and_page_is_kept_apart(self, client_user, history):
        browser = browser_for(client_user)
        browser.get(HISTORY)

        waiting = browser.get(f"{HISTORY}?filter=needs_action")
        api = api_as(client_user)
        everything = api.get("/api/v1/contracts/").json()

        assert history_titles(waiting) == ["Working for Bob", "Release the copy"]
        assert api.get("/api/v1/contracts/?role=freelancer").json()["count"] == 1
        assert everything["count"] == 5

    def test_the_other_partys_action_shows_at_once(self, contract):
        from contracts import services

        browser, api = browser_for(contract.client), api_as(contract.client)
        milestone = make_milestone(contract, funded=True)

        def status() -> str:
            return api.get("/api/v1/contracts/").json()["results"][0]["milestones"][0]["status"]

        assert 'data-testid="needs-action"' not in browser.get(HISTORY).content.decode()
        assert status() == "FUNDED"

        services.milestone_submit(
            milestone=milestone, actor=contract.freelancer, message="Done", now=timezone.now()
        )

        assert 'data-testid="needs-action"' in browser.get(HISTORY).content.decode()
        assert status() == "SUBMITTED"

    def test_the_users_own_action_in_the_browser_shows_at_once(self, contract):
        milestone = make_milestone(contract)
        browser = browser_for(contract.client)
        assert ">Fund</a>" in browser.get(HISTORY).content.decode()

        response = browser.post(reverse("contracts:milestone-fund", args=[milestone.pk]))

        assert response.status_code == 302
        html = browser.get(HISTORY).content.decode()
        assert ">Fund</a>" not in html and "Waiting for the freelancer" in html

    def test_a_sweep_shows_once_it_commits(self, contract, django_capture_on_commit_callbacks):
        from core import deadlines

        make_milestone(contract, submitted=True)
        browser = browser_for(contract.freelancer)
        assert "Auto-release" in browser.get(HISTORY).content.decode()

        with django_capture_on_commit_callbacks(execute=True):
            swept = deadlines.sweep(
                "contracts.auto_release", now=timezone.now() + timedelta(days=15)
            )

        assert swept == 1
        html = browser.get(HISTORY).content.decode()
        assert "Auto-release" not in html and "badge-released" in html

    def test_what_no_action_changes_shows_within_the_time_limit(self, contract, settings):
        import time_machine

        browser = browser_for(contract.client)
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            assert "Renamed Person" not in browser.get(HISTORY).content.decode()
            contract.freelancer.username = "Renamed Person"
            contract.freelancer.save(update_fields=["username"])
            assert "Renamed Person" not in browser.get(HISTORY).content.decode()
        with time_machine.travel(start + timedelta(seconds=settings.STAMPED_CACHE_SECONDS + 1)):
            assert "Renamed Person" in browser.get(HISTORY).content.decode()
