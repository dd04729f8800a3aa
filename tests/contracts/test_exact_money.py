"""Money is exact on every database: balances, sums and the ledger's checks.

SQLite keeps decimals as binary floating point, so ``balance + change`` or ``SUM(amount)`` there
would drift (0.1 + 0.2 ≠ 0.3). These tests move amounts that drift in floating point through
every path money takes and read the stored balances back raw, as the database holds them.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from arbitration import services as arbitration
from contracts.checks import run_checks
from contracts.models import Account, Entry
from core.deadlines import enforce_deadlines
from core.money import quantum
from disputes import services as disputes
from mediation import services as mediation
from tests import kit
from tests.factories import ContractFactory, UserFactory

pytestmark = pytest.mark.django_db


def stored_balances() -> dict[int, Decimal]:
    """Each account's balance as the database stores it, before any rounding on the way out."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, balance FROM contracts_account")
        # A float read as its shortest repr: 1.1368683772161603e-13 stays visible, 0.3 is 0.3.
        return {pk: Decimal(repr(raw) if isinstance(raw, float) else raw) for pk, raw in cursor}


def assert_books_exact() -> None:
    """Stored balances equal their entries' exact sums; each currency's books sum to zero."""
    assert {name: problems for name, problems in run_checks().items() if problems} == {}
    sums: dict[int, Decimal] = {}
    for account_id, amount in Entry.objects.values_list("account_id", "amount"):
        sums[account_id] = sums.get(account_id, Decimal(0)) + amount
    stored = stored_balances()
    for account_id, balance in stored.items():
        assert balance == sums.get(account_id, Decimal(0)), f"account #{account_id}: {balance}"
    totals: dict[str, Decimal] = {}
    for account_id, currency in Account.objects.values_list("pk", "currency"):
        totals[currency] = totals.get(currency, Decimal(0)) + stored[account_id]
    assert all(total == 0 for total in totals.values()), totals


def test_a_mediated_split_of_987_65_leaves_nothing_behind_in_escrow(contract, agent):
    now = timezone.now()
    request = kit.end_contract(contract, amount="987.65", paid="0.00", now=now)
    dispute = kit.file_dispute(request, amount="987.65", now=now)
    disputes.dispute_decline(dispute=dispute, actor=contract.client, reason="No.", now=now)
    mediation.resolution_propose(
        dispute=dispute,
        agent=agent,
        to_freelancer="592.59",
        to_client="395.06",
        rationale="Three fifths delivered.",
        now=now,
    )
    for party in (contract.freelancer, contract.client):
        mediation.resolution_answer(dispute=dispute, actor=party, accept=True, now=now)

    escrow = request.milestone.escrow_account_id
    assert stored_balances()[escrow] == 0
    assert kit.balance(Account.Kind.EARNINGS, contract.freelancer) == Decimal("592.59")
    assert_books_exact()


def test_a_refund_request_whose_parts_drift_in_floating_point_is_accepted(contract):
    # 0.10 + 0.20 is 0.30000000000000004 in binary floating point: the database's own check
    # that the escrow is what was paid plus what is asked back must still hold.
    request = kit.end_contract(contract, amount="0.30", paid="0.10")

    assert (request.escrowed, request.paid, request.amount) == (
        Decimal("0.30"),
        Decimal("0.10"),
        Decimal("0.20"),
    )
    assert_books_exact()


def test_many_small_releases_sum_exactly(contract):
    milestone = kit.make_milestone(contract, amount="1.00", funded=True)
    from contracts import services

    for _ in range(10):
        services.milestone_release(
            milestone=kit.reload(milestone),
            actor=contract.client,
            amount="0.10",
            now=timezone.now(),
        )

    assert stored_balances()[milestone.escrow_account_id] == 0
    assert_books_exact()


# --- Random amounts through every path --------------------------------------------------------

CURRENCIES = {"USD": 2, "JPY": 0, "KWD": 3}


def random_amount(rng: random.Random, currency: str, *, low: Decimal, high: Decimal) -> Decimal:
    """A random amount of ``currency`` in [low, high], with all its places used."""
    unit = quantum(currency)
    steps = int((high - low) / unit)
    return (low + unit * rng.randint(0, steps)).quantize(unit)


def random_split(rng: random.Random, total: Decimal, currency: str) -> tuple[str, str]:
    first = random_amount(rng, currency, low=Decimal(0), high=total)
    return str(first), str(total - first)


def one_contract(rng, contract, currency, agent, arbitrator, now) -> None:
    """Fund a few random amounts, release some, end the contract and take each refund request
    down a random path: accepted, disputed and accepted, mediated, or awarded."""
    from contracts import services

    unit = quantum(currency)
    milestones = [
        kit.make_milestone(
            contract,
            amount=str(random_amount(rng, currency, low=unit * 3, high=Decimal("2500"))),
            funded=True,
        )
        for _ in range(rng.randint(2, 5))
    ]
    for milestone in milestones:
        milestone = kit.reload(milestone)
        if rng.random() < 0.4:
            held = milestone.escrow_balance
            part = random_amount(rng, currency, low=unit, high=held - unit)
            services.milestone_release(
                milestone=milestone, actor=contract.client, amount=str(part), now=now
            )
    payments = {
        m.pk: str(random_amount(rng, currency, low=Decimal(0), high=m.escrow_balance - unit))
        for m in map(kit.reload, milestones)
    }
    requests = disputes.contract_end(
        contract=contract, actor=contract.client, payments=payments, now=now
    )
    for request in requests:
        path = rng.choice(["expire", "refund", "silent", "accept", "mediate", "award"])
        if path == "expire":  # the freelancer stays silent: the sweep refunds the client
            continue
        if path == "refund":
            disputes.refund_request_accept(
                refund_request=request, actor=contract.freelancer, now=now
            )
            continue
        asked = random_amount(rng, currency, low=unit, high=request.amount)
        dispute = kit.file_dispute(request, amount=str(asked), now=now)
        if path == "silent":  # the client stays silent: the sweep pays what was asked
            continue
        if path == "accept":
            disputes.dispute_accept(dispute=dispute, actor=contract.client, now=now)
            continue
        disputes.dispute_decline(dispute=dispute, actor=contract.client, reason="No.", now=now)
        to_freelancer, to_client = random_split(rng, request.amount, currency)
        mediation.resolution_propose(
            dispute=dispute,
            agent=agent,
            to_freelancer=to_freelancer,
            to_client=to_client,
            rationale="A split.",
            now=now,
        )
        if path == "mediate":
            for party in (contract.freelancer, contract.client):
                mediation.resolution_answer(dispute=dispute, actor=party, accept=True, now=now)
            continue
        mediation.resolution_answer(dispute=dispute, actor=contract.client, accept=False, now=now)
        for party in (contract.freelancer, contract.client):
            arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=now)
        to_freelancer, to_client = random_split(rng, request.amount, currency)
        arbitration.award_issue(
            dispute=dispute,
            arbitrator=arbitrator,
            to_freelancer=to_freelancer,
            to_client=to_client,
            reasons="Weighed.",
            now=now,
        )


def test_random_amounts_through_every_path_stay_exact(agent, arbitrator):
    seed = 20261130
    rng = random.Random(seed)
    now = timezone.now()
    for currency in CURRENCIES:
        client, freelancer = UserFactory(), UserFactory()
        for _ in range(45):
            contract = ContractFactory(client=client, freelancer=freelancer, currency=currency)
            one_contract(rng, contract, currency, agent, arbitrator, now)
    # The deadlines of the silent parties, settled in batches as the sweep settles them.
    assert sum(enforce_deadlines(now=now + timedelta(days=30), batch_size=7).values()) > 0
    moved = Entry.objects.filter(amount__gt=0).count()
    assert moved > 2000, f"seed {seed}: only {moved} amounts moved"
    assert_books_exact()


# --- What staff read ---------------------------------------------------------------------------


def test_the_admin_shows_each_amount_with_its_currency_places(admin_client, agent, arbitrator):
    from django.urls import reverse

    from arbitration.models import ArbitrationFee
    from contracts.models import LedgerTransaction, Milestone
    from disputes.models import Dispute, RefundRequest
    from mediation.models import Resolution

    usd = ContractFactory()
    kit.dispute_at("awarded", usd, agent=agent, arbitrator=arbitrator)
    kwd = ContractFactory(currency="KWD")
    kit.make_milestone(kwd, amount="12.345", funded=True)
    models = [Account, Entry, LedgerTransaction, Milestone, ArbitrationFee, Resolution]
    models += [Dispute, RefundRequest]
    pages = []
    for model in models:
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append(reverse(f"{name}_changelist"))
        pages += [
            reverse(f"{name}_change", args=[pk])
            for pk in model.objects.values_list("pk", flat=True)
        ]
    pages.append(reverse("admin:contracts_contract_change", args=[usd.pk]))

    for page in pages:
        response = admin_client.get(page)
        assert response.status_code == 200, page
        html = response.content.decode()
        assert "150.000" not in html and "300.000" not in html and "500.000" not in html, page
    milestone = Milestone.objects.get(contract=kwd)
    html = admin_client.get(reverse("admin:contracts_milestone_change", args=[milestone.pk]))
    assert "12.345" in html.content.decode()
