"""The agents' desk on the staff pages: away, reassignment and the high-value tier."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from disputes import services as disputes
from disputes.models import TimelineEvent
from tests import kit
from tests.factories import declined_dispute, end_contract, file_dispute

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("auto_assign")]

QUEUE = reverse("admin:mediation_mediationqueueitem_changelist")
AWAY = reverse("admin:mediation_mediationqueueitem_away")


def case_url(dispute, action=None):
    if action is None:
        return reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])
    return reverse(f"admin:mediation_mediationqueueitem_{action}", args=[dispute.pk])


class TestAway:
    def test_an_agent_marks_themselves_away_from_the_queue_and_gets_no_new_case(self, client):
        ann, bob = kit.agent("ann"), kit.agent("bob")
        client.force_login(ann)

        response = client.post(AWAY, {"away": "1"}, follow=True)

        assert "You are marked away" in " ".join(kit.shown_messages(response))
        assert "I am back" in response.content.decode()
        assert kit.reload(ann).away_since is not None
        assert kit.reload(declined_dispute(kit.ContractFactory())).agent == bob

    def test_an_agent_comes_back(self, client):
        ann = kit.agent("ann")
        client.force_login(ann)
        client.post(AWAY, {"away": "1"})

        response = client.post(AWAY, {"away": "0"}, follow=True)

        assert "Welcome back" in " ".join(kit.shown_messages(response))
        assert kit.reload(ann).away_since is None

    def test_a_party_without_a_role_cannot(self, client):
        someone = kit.UserFactory(is_staff=True)
        client.force_login(someone)

        response = client.post(AWAY, {"away": "1"})

        assert response.status_code == 403
        assert kit.reload(someone).away_since is None


class TestReassignOnTheCasePage:
    def test_reassigns_with_a_reason_on_the_timeline(self, client):
        ann, bob = kit.agent("ann"), kit.agent("bob")
        dispute = declined_dispute(kit.ContractFactory())
        client.force_login(ann)
        page = client.get(case_url(dispute))
        assert "Reassign the case" in page.content.decode()

        response = client.post(
            case_url(dispute, "reassign"), {"to": str(bob.pk), "reason": "Going on leave."}
        )

        assert response.status_code == 302
        assert kit.reload(dispute).agent == bob
        note = TimelineEvent.objects.filter(dispute=dispute).latest("pk").note
        assert "Going on leave." in note

    def test_refuses_without_a_reason(self, client):
        ann, _bob = kit.agent("ann"), kit.agent("bob")
        dispute = declined_dispute(kit.ContractFactory())
        client.force_login(ann)

        response = client.post(case_url(dispute, "reassign"), {"to": "", "reason": ""})

        assert response.status_code == 400
        assert kit.reload(dispute).agent == ann


class TestTierInTheQueue:
    @pytest.fixture(autouse=True)
    def _limit(self, settings):
        settings.HIGH_VALUE_LIMIT = {"USD": "5000"}

    def _case(self, r):
        contract = kit.ContractFactory()
        request = end_contract(contract, paid="0.00", amount=r)
        dispute = file_dispute(request, amount="100.00")
        return disputes.dispute_decline(
            dispute=dispute, actor=contract.client, reason="No.", now=timezone.now()
        )

    def test_shows_and_filters_the_tier(self, client):
        senior = kit.grant(kit.agent("sam"), Role.SENIOR_MEDIATION_AGENT)
        high, standard = self._case("5000.00"), self._case("4999.99")
        client.force_login(senior)

        everything = client.get(QUEUE)
        only_high = client.get(QUEUE, {"tier": "high"})
        only_standard = client.get(QUEUE, {"tier": "standard"})

        assert "High value" in everything.content.decode()
        assert [d.pk for d in only_high.context["cl"].result_list] == [high.pk]
        assert [d.pk for d in only_standard.context["cl"].result_list] == [standard.pk]


class TestArbitratorReassign:
    def test_an_arbitrator_hands_an_opened_case_to_another(self, client):
        mediator = kit.agent("med")
        judge, other = kit.arbitrator("judge"), kit.arbitrator("other")
        dispute = kit.case(kit.ContractFactory(), mediator)
        assert dispute.arbitrator == judge
        client.force_login(judge)
        url = reverse("admin:arbitration_arbitrationqueueitem_reassign", args=[dispute.pk])

        response = client.post(url, {"to": "", "reason": "Conflict discovered late."})

        assert response.status_code == 302
        assert kit.reload(dispute).arbitrator == other
