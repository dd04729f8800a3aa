"""Accepting an offer against everything else that can end it at the same moment, on PostgreSQL:
the deadline sweeps, the agent's proposal or small-claims decision, and the other party accepting
the other offer. Each time exactly one outcome, and at most one settlement in the ledger."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from functools import partial

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import Role
from contracts.models import LedgerTransaction
from core import deadlines
from disputes.models import Dispute
from mediation import services as mediation
from mediation.models import Resolution
from offers import services as offers
from offers.models import Offer
from tests.contracts.test_ledger_postgres import run_at_once
from tests.kit import ContractFactory, declined_dispute, dispute_at, staff_member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

START = timezone.datetime(2026, 8, 3, 9, 0, tzinfo=timezone.UTC)
MICROSECOND = timedelta(microseconds=1)
ROUNDS = 8


def offered(client_user, freelancer, *, stage="filed", by="freelancer"):
    contract = ContractFactory(client=client_user, freelancer=freelancer)
    if stage == "declined":
        dispute = declined_dispute(contract, now=START)
    else:
        dispute = dispute_at(stage, contract, now=START)
    offer = offers.offer_make(
        dispute=dispute,
        actor=getattr(contract, by),
        to_freelancer="180.00",
        to_client="120.00",
        now=START,
    )
    return contract, dispute, offer


def ledger_rows_of(dispute) -> int:
    return LedgerTransaction.objects.filter(milestone_id=dispute.milestone_id).count()


def paid_out_once_if_closed(dispute, before: int) -> None:
    """One ledger transaction paid out the escrow if the dispute closed (whichever way), none
    if it is still open."""
    dispute.refresh_from_db()
    expected = 1 if dispute.status == Dispute.Status.CLOSED else 0
    assert ledger_rows_of(dispute) - before == expected, dispute


class TestAcceptingAgainstTheOffersDeadline:
    def test_exactly_one_outcome_each_time(self, client_user, freelancer):
        seen = Counter()
        for _ in range(ROUNDS):
            contract, dispute, offer = offered(client_user, freelancer)
            before = ledger_rows_of(dispute)
            due = offer.response_due_at

            accept, sweep = run_at_once(
                partial(
                    offers.offer_accept, offer=offer, actor=contract.client, now=due - MICROSECOND
                ),
                partial(deadlines.sweep, "offers.offers_lapse", now=due, batch_size=50),
            )

            offer.refresh_from_db()
            dispute.refresh_from_db()
            if isinstance(accept, Offer):
                assert sweep == 0
                assert offer.status == Offer.Status.ACCEPTED
                assert dispute.outcome == Dispute.Outcome.SETTLED
            else:
                assert sweep == 1, (accept, sweep)
                assert offer.status == Offer.Status.LAPSED
                assert dispute.status == Dispute.Status.AWAITING_CLIENT
            paid_out_once_if_closed(dispute, before)
            assert dispute.timeline.filter(kind__in=["OFFER_ACCEPTED", "OFFER_LAPSED"]).count() == 1
            seen[offer.status] += 1
        print("outcomes of the race:", dict(seen))
        call_command("check_ledger")


class TestAcceptingAgainstTheClientsDeadline:
    def test_exactly_one_outcome_each_time(self, client_user, freelancer, settings):
        settings.OFFER_RESPONSE_PERIOD = timedelta(days=10)  # the offer outlives the stage
        seen = Counter()
        for _ in range(ROUNDS):
            contract, dispute, offer = offered(client_user, freelancer)
            before = ledger_rows_of(dispute)
            due = dispute.response_due_at

            accept, sweep = run_at_once(
                partial(
                    offers.offer_accept, offer=offer, actor=contract.client, now=due - MICROSECOND
                ),
                partial(deadlines.sweep, "disputes.client_answers_expire", now=due, batch_size=50),
            )

            offer.refresh_from_db()
            dispute.refresh_from_db()
            assert dispute.status == Dispute.Status.CLOSED
            if isinstance(accept, Offer):
                assert (sweep, dispute.outcome) == (0, Dispute.Outcome.SETTLED)
                assert offer.status == Offer.Status.ACCEPTED
            else:
                assert (sweep, dispute.outcome) == (1, Dispute.Outcome.CLIENT_SILENT), accept
                assert offer.status == Offer.Status.LAPSED
            paid_out_once_if_closed(dispute, before)
            seen[dispute.outcome] += 1
        print("outcomes of the race:", dict(seen))
        call_command("check_ledger")


class TestAcceptingWhileTheAgentProposes:
    def test_exactly_one_outcome_each_time(self, client_user, freelancer):
        agent = staff_member(Role.MEDIATION_AGENT, "mia-agent")
        seen = Counter()
        for _ in range(ROUNDS):
            contract, dispute, offer = offered(client_user, freelancer, stage="declined")
            before = ledger_rows_of(dispute)

            accept, propose = run_at_once(
                partial(offers.offer_accept, offer=offer, actor=contract.client, now=START),
                partial(
                    mediation.resolution_propose,
                    dispute=dispute,
                    agent=agent,
                    to_freelancer="150.00",
                    to_client="150.00",
                    rationale="Half each.",
                    now=START,
                ),
            )

            dispute.refresh_from_db()
            assert isinstance(accept, Offer), accept
            assert dispute.outcome == Dispute.Outcome.SETTLED
            resolutions = Resolution.objects.filter(dispute=dispute)
            if isinstance(propose, Resolution):
                assert [r.status for r in resolutions] == [Resolution.Status.SUPERSEDED]
            else:
                assert not resolutions.exists()
            paid_out_once_if_closed(dispute, before)
            seen["proposed first" if isinstance(propose, Resolution) else "settled first"] += 1
        print("orders of the race:", dict(seen))
        call_command("check_ledger")

    def test_against_a_binding_small_claims_decision(self, client_user, freelancer, settings):
        settings.SMALL_CLAIMS_ENABLED = True
        settings.SMALL_CLAIMS_LIMIT = "1000.00"
        agent = staff_member(Role.MEDIATION_AGENT, "mia-agent")
        seen = Counter()
        for _ in range(ROUNDS):
            contract, dispute, offer = offered(client_user, freelancer, stage="declined")
            before = ledger_rows_of(dispute)

            run_at_once(
                partial(offers.offer_accept, offer=offer, actor=contract.client, now=START),
                partial(
                    mediation.resolution_propose,
                    dispute=dispute,
                    agent=agent,
                    to_freelancer="150.00",
                    to_client="150.00",
                    rationale="Half each.",
                    now=START,
                ),
            )

            dispute.refresh_from_db()
            offer.refresh_from_db()
            assert dispute.outcome in {Dispute.Outcome.SETTLED, Dispute.Outcome.SMALL_CLAIM}
            expected = (
                Offer.Status.ACCEPTED
                if dispute.outcome == Dispute.Outcome.SETTLED
                else Offer.Status.LAPSED
            )
            assert offer.status == expected
            paid_out_once_if_closed(dispute, before)
            seen[dispute.outcome] += 1
        print("outcomes of the race:", dict(seen))
        call_command("check_ledger")


class TestBothPartiesAcceptingEachOthersOffers:
    def test_exactly_one_is_accepted_and_the_money_moves_once(self, client_user, freelancer):
        seen = Counter()
        for _ in range(ROUNDS):
            contract, dispute, theirs = offered(client_user, freelancer, by="freelancer")
            before = ledger_rows_of(dispute)
            mine = offers.offer_make(
                dispute=dispute,
                actor=contract.client,
                to_freelancer="100.00",
                to_client="200.00",
                now=START,
            )

            results = run_at_once(
                partial(offers.offer_accept, offer=theirs, actor=contract.client, now=START),
                partial(offers.offer_accept, offer=mine, actor=contract.freelancer, now=START),
            )

            accepted = [r for r in results if isinstance(r, Offer)]
            assert len(accepted) == 1, results
            statuses = sorted(
                Offer.objects.filter(dispute=dispute).values_list("status", flat=True)
            )
            assert statuses == ["ACCEPTED", "LAPSED"]
            dispute.refresh_from_db()
            assert dispute.outcome == Dispute.Outcome.SETTLED
            paid_out_once_if_closed(dispute, before)
            seen[accepted[0].by] += 1
        print("accepted offers by:", dict(seen))
        call_command("check_ledger")
