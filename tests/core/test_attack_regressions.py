"""Smaller holes found by trying the product as an attacker would, each closed for good."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from disputes import services as disputes
from tests.kit import (
    UserFactory,
    agent,
    api_as,
    assert_error,
    browser_for,
    case,
    draft,
    filed,
    refund_request,
)

pytestmark = pytest.mark.django_db


class TestDeadlinesFarAhead:
    def test_an_extension_beyond_the_limit_is_bad_input(self, contract, settings):
        dispute = filed(contract)
        mia = agent("mia-agent")
        too_far = timezone.now() + settings.DEADLINE_MAX_AHEAD + timedelta(days=1)

        response = api_as(mia).post(
            f"/api/v1/disputes/{dispute.pk}/extend/",
            {"due_at": "9999-12-31T23:30:00Z", "reason": "x"},
            format="json",
        )
        near_limit = api_as(mia).post(
            f"/api/v1/disputes/{dispute.pk}/extend/",
            {"due_at": too_far.isoformat(), "reason": "x"},
            format="json",
        )

        assert_error(response, 400, "invalid_due_at")
        assert_error(near_limit, 400, "invalid_due_at")

    def test_an_evidence_request_due_beyond_the_limit_is_bad_input(self, contract):
        mia = agent("mia-agent")
        open_case = case(contract, mia)
        from tests.kit import arbitrator

        response = api_as(arbitrator("art")).post(
            f"/api/v1/disputes/{open_case.pk}/evidence-requests/",
            {"party": "client", "message": "Send it.", "due_at": "9999-12-31T20:00:00Z"},
            format="json",
        )

        assert response.status_code == 400, response.content


class TestExtendingADraft:
    def test_tells_the_freelancer_only(self, contract):
        request = refund_request(contract)
        dispute = draft(request)

        disputes.dispute_extend(
            dispute=dispute,
            actor=agent("mia-agent"),
            due_at=request.response_due_at + timedelta(days=1),
            reason="The freelancer asked for time.",
            now=timezone.now(),
        )

        told = Notification.objects.filter(kind="deadline_extended")
        assert list(told.values_list("user_id", flat=True)) == [contract.freelancer_id]


class TestTheStatisticsPage:
    def test_is_for_staff_roles_not_for_is_staff_alone(self):
        url = reverse("mediation:statistics")

        role_less = browser_for(UserFactory(is_staff=True)).get(url)
        with_a_role = browser_for(agent("mia-agent")).get(url)

        assert role_less.status_code == 403
        assert with_a_role.status_code == 200


class TestSeedDemo:
    def test_refuses_to_run_in_production(self, settings):
        settings.PRODUCTION = True

        with pytest.raises(CommandError, match="production"):
            call_command("seed_demo")
