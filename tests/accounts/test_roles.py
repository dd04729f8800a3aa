"""Roles are groups: membership of "Mediation agents", "Arbitrators" or "Support" is the role.

``is_staff`` only opens the admin site; ``grant_role`` (a command and an admin action) sets
both, so demo and real staff are set up one way.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from disputes import services as disputes
from disputes.models import Dispute, SupportCase
from tests.kit import (
    UserFactory,
    api_as,
    assert_error,
    browser_for,
    declined,
    grant,
    make_milestone,
)

pytestmark = pytest.mark.django_db

PROPOSAL = {"to_freelancer": "200.00", "to_client": "100.00", "rationale": "Most was delivered."}


@pytest.fixture
def group_only_agent(db):
    """In "Mediation agents", without is_staff: no admin site, but the role all the same."""
    return grant(UserFactory(username="gail-group"), Role.MEDIATION_AGENT, is_staff=False)


class TestRolesAreGroups:
    def test_a_group_only_agent_reads_and_proposes_through_the_api(
        self, group_only_agent, contract
    ):
        dispute = declined(contract)
        api = api_as(group_only_agent)

        read = api.get(f"/api/v1/disputes/{dispute.pk}/")
        listed = api.get("/api/v1/disputes/")
        proposed = api.post(f"/api/v1/disputes/{dispute.pk}/resolution/", PROPOSAL)

        assert group_only_agent.is_staff is False
        assert read.status_code == 200, read.content
        assert listed.json()["count"] == 1
        assert proposed.status_code in (200, 201), proposed.content
        assert Dispute.objects.get(pk=dispute.pk).status == Dispute.Status.RESOLUTION_PROPOSED

    def test_me_lists_the_role(self, group_only_agent):
        body = api_as(group_only_agent).get("/api/v1/me/").json()

        assert body["roles"] == ["Mediation agents"]

    def test_is_staff_without_a_role_sees_no_dispute_and_may_not_propose(self, contract):
        dispute = declined(contract)
        staff_only = UserFactory(username="stan-staff", is_staff=True)
        api = api_as(staff_only)

        assert_error(api.get(f"/api/v1/disputes/{dispute.pk}/"), 404, "not_found")
        assert api.get("/api/v1/disputes/").json()["count"] == 0

    def test_a_group_only_agent_has_no_admin_site(self, group_only_agent):
        response = browser_for(group_only_agent).get(reverse("admin:index"))

        assert response.status_code == 302  # to the admin's login page

    def test_support_closes_a_support_case_and_an_agent_may_not(self, contract):
        milestone = make_milestone(contract, funded=True)
        case = disputes.support_case_open(
            milestone=milestone,
            actor=contract.freelancer,
            description="Delivered, not paid.",
            now=timezone.now(),
        )
        agent = grant(UserFactory(), Role.MEDIATION_AGENT)
        support = grant(UserFactory(), Role.SUPPORT, is_staff=False)

        from core.errors import NotAllowed

        with pytest.raises(NotAllowed):
            disputes.support_case_close(case=case, actor=agent, note="x", now=timezone.now())
        disputes.support_case_close(case=case, actor=support, note="Done.", now=timezone.now())

        assert SupportCase.objects.get(pk=case.pk).status == SupportCase.Status.CLOSED


class TestGrantRoleCommand:
    def test_gives_the_group_and_the_admin_site(self):
        UserFactory(username="ana")
        out = StringIO()

        call_command("grant_role", "ana", "agent", stdout=out)

        ana = User.objects.get(username="ana")
        assert ana.is_staff
        assert list(ana.groups.values_list("name", flat=True)) == ["Mediation agents"]
        assert "Mediation agents" in out.getvalue()

    def test_revoking_the_last_role_closes_the_admin_site(self):
        ana = grant(UserFactory(username="ana"), Role.ARBITRATOR)

        call_command("grant_role", "ana", "arbitrator", "--revoke", stdout=StringIO())

        ana.refresh_from_db()
        assert not ana.is_staff
        assert not ana.groups.exists()

    @pytest.mark.parametrize(
        ("username", "role"), [("nobody", "agent"), ("ana", "janitor")], ids=["user", "role"]
    )
    def test_refuses_an_unknown_user_or_role(self, username, role):
        UserFactory(username="ana")

        with pytest.raises(CommandError):
            call_command("grant_role", username, role, stdout=StringIO())

        assert not User.objects.get(username="ana").is_staff


class TestGrantRoleAdminAction:
    def test_a_superuser_grants_a_role_from_the_user_list(self):
        root = UserFactory(username="root", is_staff=True, is_superuser=True)
        ana = UserFactory(username="ana")
        url = reverse("admin:accounts_user_changelist")

        response = browser_for(root).post(
            url,
            {"action": "grant_role", "_selected_action": [ana.pk], "apply": "1", "role": "SUPPORT"},
        )

        ana.refresh_from_db()
        assert response.status_code == 302
        assert ana.is_staff
        assert list(ana.groups.values_list("name", flat=True)) == ["Support"]
