"""Smaller things people see: names said once, an automatic release that says so, the support
entry point on submitted work, the favicon, and the agent's service level in words."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contracts import services as contracts
from core import deadlines
from core.formats import local_when
from core.templatetags.people import with_role
from tests import kit
from tests.kit import ContractFactory, UserFactory, browser_for, make_milestone

pytestmark = pytest.mark.django_db


class TestNames:
    @pytest.mark.parametrize(
        ("name", "role", "shown"),
        [
            ("freelancer", "freelancer", "freelancer"),
            ("Client", "client", "Client"),
            ("frank-freelancer", "freelancer", "frank-freelancer"),
            ("agent", "mediation agent", "agent"),
            ("alice", "freelancer", "alice (freelancer)"),
            ("frank-freelancer", "client", "frank-freelancer (client)"),
            ("clientele", "client", "clientele (client)"),
        ],
    )
    def test_a_role_follows_a_name_only_when_the_name_does_not_say_it(self, name, role, shown):
        assert with_role(name, role) == shown

    def test_see_dispute_does_not_double_the_parties_names(self):
        contract = ContractFactory(
            client=UserFactory(username="client"), freelancer=UserFactory(username="freelancer")
        )
        dispute = kit.filed(contract)

        page = browser_for(contract.client).get(dispute.get_absolute_url()).content.decode()

        assert "freelancer (freelancer)" not in page
        assert "client (client)" not in page
        assert "· freelancer and client" in page

    def test_the_fee_status_names_each_party_once(self, agent):
        contract = ContractFactory(
            client=UserFactory(username="client"), freelancer=UserFactory(username="freelancer")
        )
        dispute = kit.window(contract, agent)

        page = browser_for(contract.client).get(dispute.get_absolute_url()).content.decode()

        assert "freelancer · freelancer" not in page
        assert "<dt>client · you</dt>" in page


class TestAutomaticRelease:
    def test_the_milestone_says_it_was_released_automatically(self, contract, freelancer):
        milestone = kit.submitted(contract)
        deadlines.sweep("contracts.auto_release", now=milestone.auto_release_due_at, batch_size=10)

        page = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()

        assert 'data-testid="auto-released"' in page
        assert "Released automatically: carol-client neither released the payment" in page

    def test_a_release_by_the_client_does_not(self, contract, client_user):
        milestone = kit.submitted(contract)
        contracts.milestone_release(milestone=milestone, actor=client_user, now=timezone.now())

        page = browser_for(client_user).get(contract.get_absolute_url()).content.decode()

        assert "Released automatically" not in page


class TestSupportEntryPoint:
    def test_is_visible_on_a_submitted_milestone_card(self, contract, freelancer):
        milestone = kit.submitted(contract)

        page = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()

        link = reverse("disputes:support-case-open", args=[milestone.pk])
        entry = page[page.index('data-testid="support-entry"') :]
        assert entry.index(f'href="{link}"') < entry.index("<details")
        assert "open a support case</a>" in page

    def test_is_not_offered_to_the_client(self, contract, client_user):
        kit.submitted(contract)

        page = browser_for(client_user).get(contract.get_absolute_url()).content.decode()

        assert 'data-testid="support-entry"' not in page

    def test_is_not_offered_before_work_is_submitted(self, contract, freelancer):
        make_milestone(contract, funded=True)

        page = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()

        assert 'data-testid="support-entry"' not in page


class TestFavicon:
    def test_every_page_links_it_and_whitenoise_serves_it(self, settings, contract, freelancer):
        settings.WHITENOISE_USE_FINDERS = True

        page = browser_for(freelancer).get(contract.get_absolute_url()).content.decode()
        svg = Client().get("/static/favicon.svg")
        png = Client().get("/static/favicon-32.png")

        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
        assert (svg.status_code, svg["Content-Type"]) == (200, "image/svg+xml")
        assert (png.status_code, png["Content-Type"]) == (200, "image/png")
        assert b"<svg" in b"".join(svg.streaming_content)


class TestTheAgentsServiceLevel:
    def test_reads_propose_a_resolution_by(self, contract, agent):
        dispute = kit.declined(contract)

        page = (
            browser_for(agent)
            .get(reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk]))
            .content.decode()
        )

        due = local_when(dispute.current_deadline().due_at)
        assert f"Service level: propose a resolution by <strong>{due}</strong>" in page
        assert "(service level) (service level" not in page
