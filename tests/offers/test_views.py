"""Settlement offers in the browser (plain POST forms on See Dispute) and on the staff pages."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse

from core.formats import local_when
from disputes.models import Dispute
from offers import services as offers
from offers.models import Offer
from tests import kit
from tests.kit import browser_for, followed_messages, shown_messages

pytestmark = pytest.mark.django_db


@pytest.fixture
def dispute(contract):
    """R = 300.00, waiting for the client."""
    return kit.dispute_at("filed", contract)


def page(browser, dispute):
    return browser.get(dispute.get_absolute_url())


def offer_by(dispute, user, to_freelancer="180.00", to_client="120.00"):
    return offers.offer_make(
        dispute=dispute,
        actor=user,
        to_freelancer=to_freelancer,
        to_client=to_client,
        message="Half-way.",
        now=kit.timezone.now(),
    )


class TestThePanel:
    def test_a_party_sees_the_offer_form_without_javascript(self, dispute, freelancer):
        response = page(browser_for(freelancer), dispute)

        html = response.content.decode()
        assert 'data-testid="offers"' in html
        assert "Offer a settlement" in html
        assert f'action="{reverse("offers:make", args=[dispute.pk])}"' in html
        assert 'method="post"' in html

    def test_the_other_sides_open_offer_shows_accept_decline_and_counter(
        self, dispute, freelancer, client_user
    ):
        made = offer_by(dispute, freelancer)

        html = page(browser_for(client_user), dispute).content.decode()

        assert 'data-testid="their-offer"' in html
        assert reverse("offers:accept", args=[made.pk]) in html
        assert reverse("offers:decline", args=[made.pk]) in html
        assert "Make a counter-offer" in html
        assert "Half-way." in html

    def test_the_maker_sees_withdraw_and_not_accept(self, dispute, freelancer):
        made = offer_by(dispute, freelancer)

        html = page(browser_for(freelancer), dispute).content.decode()

        assert reverse("offers:withdraw", args=[made.pk]) in html
        assert reverse("offers:accept", args=[made.pk]) not in html

    def test_a_draft_has_no_panel(self, contract, freelancer):
        draft = kit.dispute_at("draft", contract)

        assert 'data-testid="offers"' not in page(browser_for(freelancer), draft).content.decode()

    def test_staff_see_the_history_but_no_form(self, dispute, freelancer, agent):
        offer_by(dispute, freelancer)

        html = page(browser_for(agent), dispute).content.decode()

        assert 'data-testid="offer-history"' in html
        assert "Send offer" not in html


class TestAnOfferPastItsDeadline:
    """The sweep has not reached it yet: the page says it lapsed, and offers no Accept."""

    def history_status(self, html: str, offer) -> str:
        table = html.split('data-testid="offer-history"', 1)[1].split("</table>", 1)[0]
        return " ".join(table.split("<td>")[-1].split("</td>", 1)[0].split())

    @pytest.mark.parametrize(
        ("before_due", "lapsed"), [(timedelta(microseconds=1), False), (timedelta(0), True)]
    )
    def test_1_microsecond_before_and_at_its_deadline(
        self, dispute, freelancer, client_user, before_due, lapsed
    ):
        made = offer_by(dispute, freelancer)
        browser = browser_for(client_user)

        with time_machine.travel(made.response_due_at - before_due, tick=False):
            html = page(browser, dispute).content.decode()

        status = self.history_status(html, made)
        accept = reverse("offers:accept", args=[made.pk])
        made.refresh_from_db()
        assert made.status == Offer.Status.OPEN  # the sweep or an action writes the lapse
        if lapsed:
            due = local_when(made.response_due_at)
            assert status.startswith('<span class="badge">Lapsed</span>')
            assert f"at {due}" in status
            assert accept not in html
            assert 'data-testid="their-offer"' not in html
        else:
            assert status.startswith('<span class="badge">Open</span>')
            assert accept in html

    def test_its_maker_sees_it_lapsed_with_nothing_to_withdraw(self, dispute, freelancer):
        made = offer_by(dispute, freelancer)

        with time_machine.travel(made.response_due_at, tick=False):
            html = page(browser_for(freelancer), dispute).content.decode()

        assert self.history_status(html, made).startswith('<span class="badge">Lapsed</span>')
        assert reverse("offers:withdraw", args=[made.pk]) not in html


class TestTheForms:
    def test_an_offer_then_a_counter_then_an_acceptance_moves_the_money(
        self, dispute, freelancer, client_user, contract
    ):
        as_freelancer, as_client = browser_for(freelancer), browser_for(client_user)
        make = reverse("offers:make", args=[dispute.pk])

        sent = as_freelancer.post(make, {"to_freelancer": "250.00", "to_client": "50.00"})
        sent_said = followed_messages(as_freelancer, sent)
        countered = as_client.post(
            make, {"to_freelancer": "150.00", "to_client": "150.00", "message": "Meet halfway"}
        )
        countered_said = followed_messages(as_client, countered)
        counter = Offer.objects.get(by="client")
        accepted = as_freelancer.post(reverse("offers:accept", args=[counter.pk]))

        assert "Your offer is sent" in sent_said[0]
        assert "Your offer is sent" in countered_said[0]
        [done] = followed_messages(as_freelancer, accepted)
        assert "The money moved" in done
        dispute.refresh_from_db()
        assert dispute.outcome == Dispute.Outcome.SETTLED
        assert kit.books(contract)["freelancer earned"] == Decimal("350.00")
        assert kit.books(contract)["client refunded"] == Decimal("150.00")

    def test_a_split_that_does_not_add_up_comes_back_with_its_message_once(
        self, dispute, client_user
    ):
        browser = browser_for(client_user)

        response = browser.post(
            reverse("offers:make", args=[dispute.pk]),
            {"to_freelancer": "100.00", "to_client": "100.00"},
        )

        assert response.status_code == 400
        html = response.content.decode()
        assert html.count("The two shares must add up to 300.00 USD") == 1  # above both, once
        assert 'name="to_freelancer" value="100.00"' in html  # what was typed comes back
        assert not Offer.objects.exists()

    def test_declining_and_withdrawing(self, dispute, freelancer, client_user):
        made = offer_by(dispute, freelancer)
        declined = browser_for(client_user).post(
            reverse("offers:decline", args=[made.pk]), {"reason": "No."}
        )
        mine = offer_by(dispute, freelancer, "170.00", "130.00")
        withdrawn = browser_for(freelancer).post(reverse("offers:withdraw", args=[mine.pk]))

        assert declined.status_code == 302
        made.refresh_from_db()
        mine.refresh_from_db()
        assert (made.status, made.reason) == ("DECLINED", "No.")
        assert mine.status == "WITHDRAWN"
        assert withdrawn.status_code == 302

    def test_a_refusal_is_an_error_message_and_changes_nothing(self, dispute, freelancer):
        made = offer_by(dispute, freelancer)
        browser = browser_for(freelancer)

        response = browser.post(reverse("offers:accept", args=[made.pk]), follow=True)

        assert shown_messages(response) == [
            "This is your own offer: only the other party can accept or decline it."
        ]
        made.refresh_from_db()
        assert made.status == "OPEN"

    def test_a_stranger_gets_404(self, dispute, freelancer, stranger):
        made = offer_by(dispute, freelancer)

        response = browser_for(stranger).post(reverse("offers:accept", args=[made.pk]))

        assert response.status_code == 404

    def test_get_is_not_allowed(self, dispute, freelancer):
        made = offer_by(dispute, freelancer)

        assert browser_for(freelancer).get(
            reverse("offers:accept", args=[made.pk])
        ).status_code == (405)


class TestStaffPages:
    def test_the_agents_case_page_shows_the_offer_history(self, contract, agent, freelancer):
        dispute = kit.dispute_at("declined", contract)
        offer_by(dispute, freelancer)

        response = browser_for(agent).get(
            reverse("admin:mediation_mediationqueueitem_change", args=[dispute.pk])
        )

        html = response.content.decode()
        assert response.status_code == 200
        assert "Settlement offers between the parties" in html
        assert "180.00 USD" in html

    def test_the_arbitrators_case_page_shows_the_offer_history(
        self, contract, agent, arbitrator, freelancer
    ):
        dispute = kit.dispute_at("case", contract, agent=agent, arbitrator=arbitrator)
        offer_by(dispute, freelancer)

        response = browser_for(arbitrator).get(
            reverse("admin:arbitration_arbitrationqueueitem_change", args=[dispute.pk])
        )

        assert response.status_code == 200
        assert "Settlement offers between the parties" in response.content.decode()

    def test_the_admin_lists_offers_read_only(self, dispute, freelancer):
        made = offer_by(dispute, freelancer)
        root = kit.UserFactory(username="root", is_superuser=True, is_staff=True)
        browser = browser_for(root)

        listed = browser.get(reverse("admin:offers_offer_changelist"))
        shown = browser.get(reverse("admin:offers_offer_change", args=[made.pk]))

        assert listed.status_code == shown.status_code == 200
        assert "180.00" in listed.content.decode()
        assert 'name="to_freelancer"' not in shown.content.decode()
        assert browser.get(reverse("admin:offers_offer_add")).status_code == 403


def test_a_case_the_parties_settled_says_so_on_the_arbitrators_page(
    contract, agent, arbitrator, freelancer, client_user
):
    dispute = kit.dispute_at("case", contract, agent=agent, arbitrator=arbitrator)
    offers.offer_accept(
        offer=offer_by(dispute, freelancer), actor=client_user, now=kit.timezone.now()
    )

    response = browser_for(arbitrator).get(
        reverse("admin:arbitration_arbitrationqueueitem_change", args=[dispute.pk])
    )

    html = response.content.decode()
    assert "the parties settled by an offer" in html
    assert "Issue final award" not in html
    assert "decision is awaited" not in html
