"""Frozen terms: funding a milestone freezes its title, description, amount, currency and due
date with a SHA-256 over their canonical JSON; both parties, the agent and the arbitrator see
them. Through every door: the service, the API and the browser's fund button."""

import hashlib
import importlib
import json
from datetime import UTC, date, datetime

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse

from contracts import services
from contracts.models import MilestoneTerms
from core.errors import NotTheClient
from tests.kit import api_as, browser_for, dispute_at

pytestmark = pytest.mark.django_db

FUNDED_AT = datetime(2026, 11, 3, 10, 30, tzinfo=UTC)


def expected_hash(**terms) -> str:
    """The hash as anyone recomputes it from the documented rules."""
    text = json.dumps(terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture
def milestone(contract):
    return services.milestone_create(
        contract=contract,
        actor=contract.client,
        title="Logo — três variações",
        description="Three logo variants, SVG and PNG.",
        amount="1250.5",
        due_date=date(2026, 12, 15),
        now=FUNDED_AT,
    )


class TestFunding:
    def test_freezes_the_terms_with_the_hash_of_the_terms_at_funding(self, milestone, contract):
        services.milestone_fund(milestone=milestone, actor=contract.client, now=FUNDED_AT)

        terms = MilestoneTerms.objects.get(milestone=milestone)
        assert terms.as_shown() == {
            "title": "Logo — três variações",
            "description": "Three logo variants, SVG and PNG.",
            "amount": "1250.50",
            "currency": "USD",
            "due_date": "2026-12-15",
            "frozen_at": "2026-11-03T10:30:00Z",
            "sha256": expected_hash(
                title="Logo — três variações",
                description="Three logo variants, SVG and PNG.",
                amount="1250.50",
                currency="USD",
                due_date="2026-12-15",
                frozen_at="2026-11-03T10:30:00Z",
            ),
        }
        assert terms.verifies()

    def test_a_refused_funding_freezes_nothing(self, milestone, contract):
        with pytest.raises(NotTheClient):
            services.milestone_fund(milestone=milestone, actor=contract.freelancer, now=FUNDED_AT)

        assert not MilestoneTerms.objects.exists()

    def test_frozen_terms_are_never_changed(self, milestone, contract):
        services.milestone_fund(milestone=milestone, actor=contract.client, now=FUNDED_AT)
        terms = MilestoneTerms.objects.get()

        terms.description = "Five variants."
        with pytest.raises(ValueError):
            terms.save()

    def test_the_hash_is_on_the_contracts_activity(self, milestone, contract):
        services.milestone_fund(milestone=milestone, actor=contract.client, now=FUNDED_AT)

        from contracts.models import ContractEvent

        event = ContractEvent.objects.get(kind=ContractEvent.Kind.MILESTONE_FUNDED)
        assert MilestoneTerms.objects.get().sha256 in event.note

    def test_funding_through_the_api_freezes_them(self, milestone, contract):
        response = api_as(contract.client).post(f"/api/v1/milestones/{milestone.pk}/fund/")

        assert response.status_code == 200, response.content
        assert MilestoneTerms.objects.get(milestone=milestone).verifies()

    def test_funding_in_the_browser_freezes_them(self, milestone, contract):
        response = browser_for(contract.client).post(
            reverse("contracts:milestone-fund", kwargs={"pk": milestone.pk})
        )

        assert response.status_code == 302
        assert MilestoneTerms.objects.get(milestone=milestone).verifies()


class TestShown:
    def test_on_the_contract_page_to_both_parties(self, milestone, contract):
        services.milestone_fund(milestone=milestone, actor=contract.client, now=FUNDED_AT)
        sha256 = MilestoneTerms.objects.get().sha256

        for user in (contract.client, contract.freelancer):
            page = browser_for(user).get(contract.get_absolute_url())
            assert sha256.encode() in page.content

    def test_not_before_funding(self, milestone, contract):
        page = browser_for(contract.client).get(contract.get_absolute_url())

        assert b"frozen-terms" not in page.content

    def test_on_see_dispute_and_the_staff_case_pages(self, contract, agent, arbitrator):
        from disputes import services as disputes

        dispute = dispute_at("case", contract, agent=agent)
        disputes.dispute_assign(dispute=dispute, staff=arbitrator, role="arbitrator", now=FUNDED_AT)
        sha256 = MilestoneTerms.objects.get(milestone=dispute.milestone).sha256
        pages = [
            (contract.client, dispute.get_absolute_url()),
            (contract.freelancer, dispute.get_absolute_url()),
            (agent, reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])),
            (
                arbitrator,
                reverse("admin:arbitration_arbitrationqueueitem_change", args=[dispute.pk]),
            ),
        ]

        for user, page in pages:
            response = browser_for(user).get(page)
            assert response.status_code == 200, (user, page)
            assert sha256.encode() in response.content, (user, page)


class TestTheDataMigration:
    def test_freezes_milestones_funded_before_it_as_of_their_funding(self, milestone, contract):
        with time_machine.travel(FUNDED_AT, tick=False):
            services.milestone_fund(milestone=milestone, actor=contract.client, now=FUNDED_AT)
        frozen = MilestoneTerms.objects.get()
        MilestoneTerms.objects.all().delete()  # as before the terms were frozen at funding
        migration = importlib.import_module("contracts.migrations.0006_freeze_funded_terms")

        migration.freeze(apps, None)
        migration.freeze(apps, None)  # and again: nothing twice

        (terms,) = MilestoneTerms.objects.all()
        assert terms.frozen_at == FUNDED_AT
        assert terms.as_shown() == frozen.as_shown()

    def test_leaves_unfunded_milestones(self, milestone):
        migration = importlib.import_module("contracts.migrations.0006_freeze_funded_terms")

        migration.freeze(apps, None)

        assert not MilestoneTerms.objects.exists()
