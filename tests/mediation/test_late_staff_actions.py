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


class TestExtendingAnEvidenceRequestInTheAdmin:
    def test_the_case_page_offers_what_the_table_allows_and_moves_the_due_date(self, contract, mia):
        from tests.kit import arbitrator, case, evidence_request

        open_case = case(contract, mia)
        request = evidence_request(open_case, arbitrator("art"))
        page = reverse("admin:mediation_mediationqueueitem_change", args=[open_case.pk])
        url = reverse("admin:mediation_mediationqueueitem_extend", args=[open_case.pk])
        later = request.due_at + timedelta(days=1)

        offered = browser_for(mia).get(page)
        done = browser_for(mia).post(
            url, {"due_at": later.strftime("%Y-%m-%dT%H:%M"), "reason": "Closed offices."}
        )

        assert "extend" in offered.context["forms"]
        assert done.status_code == 302
        request.refresh_from_db()
        assert request.due_at.strftime("%Y-%m-%dT%H:%M") == later.strftime("%Y-%m-%dT%H:%M")
