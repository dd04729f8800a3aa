"""A deadline decides before a staff member's late action too, in the admin as in the API."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from disputes.models import Dispute
from tests.kit import agent, api_as, assert_error, browser_for, proposed

pytestmark = pytest.mark.django_db


@pytest.fixture
def mia():
    return agent("mia-agent")


class TestExtendingAfterTheDeadline:
    def test_the_admin_refuses_and_the_notice_is_issued(self, contract, mia):
        dispute = proposed(contract, mia)
        url = reverse("admin:mediation_mediationqueueitem_extend", args=[dispute.pk])
        late = dispute.response_due_at + timedelta(minutes=5)

        with time_machine.travel(late, tick=False):
            response = browser_for(mia).post(
                url,
                {"due_at": (late + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M"), "reason": "x"},
            )

        assert response.status_code == 409
        assert "passed on" in response.content.decode()
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW

    def test_the_api_refuses_and_the_notice_is_issued(self, contract, mia):
        dispute = proposed(contract, mia)
        late = dispute.response_due_at + timedelta(minutes=5)

        with time_machine.travel(late, tick=False):
            response = api_as(mia).post(
                f"/api/v1/disputes/{dispute.pk}/extend/",
                {"due_at": (late + timedelta(days=2)).isoformat(), "reason": "More time."},
                format="json",
            )

        assert_error(response, 409, "deadline_passed")
        dispute.refresh_from_db()
        assert dispute.status == Dispute.Status.ARBITRATION_WINDOW
