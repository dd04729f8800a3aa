"""Nothing told is lost: a committed change always owes its e-mails, a rolled-back one never, and
a broker that cannot be reached delays them without failing the change (``core.outbox``)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.outbox import EMAILS
from contracts import ledger
from contracts.models import Account, LedgerTransaction, Milestone
from core import outbox
from core.models import SweepRun
from core.tasks import enforce_deadlines
from disputes import services as dispute_services
from disputes.models import RefundRequest
from tests import kit

# Real commits: the on-commit enqueue runs as in production.
pytestmark = pytest.mark.django_db(transaction=True)


def sent_once_each(notices) -> bool:
    """Whether each of ``notices`` was e-mailed exactly once (the subject names it)."""
    sent = sorted((m.to[0], m.subject) for m in mail.outbox)
    return sent == sorted((n.user.email, n.title) for n in notices)


def relay_everything_owed() -> outbox.Relayed:
    """One pass of the relay sweep, once every grace period is over."""
    return outbox.redeliver(EMAILS, now=timezone.now() + EMAILS.grace())


class TestABrokerThatCannotBeReached:
    def test_a_partys_api_action_answers_as_usual_and_its_e_mails_wait_in_the_outbox(
        self, contract, as_freelancer, caplog
    ):
        request = kit.end_contract(contract)
        mail.outbox.clear()

        with kit.broker_unreachable():
            response = as_freelancer.post(f"/api/v1/refund-requests/{request.pk}/accept/")

        assert response.status_code == 200, response.content
        assert "could not enqueue the delivery of 1 row(s)" in caplog.text
        assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.ACCEPTED
        owed = list(EMAILS.owed().select_related("user"))
        assert owed and mail.outbox == []
        assert [(n.kind, n.user_id) for n in owed] == [("refunded", contract.client_id)]

        first = relay_everything_owed()
        second = relay_everything_owed()

        assert first.delivered == len(owed)
        assert second.claimed == 0
        assert sent_once_each(owed)

    def test_a_partys_browser_action_answers_as_usual(self, contract, freelancer):
        request = kit.end_contract(contract)
        browser = kit.browser_for(freelancer)

        with kit.broker_unreachable():
            response = browser.post(reverse("disputes:refund-request-accept", args=[request.pk]))

        assert response.status_code == 302
        assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.ACCEPTED
        assert EMAILS.owed().filter(kind="refunded").exists()

    def test_a_sweep_over_2500_due_rows_goes_through_every_batch(self, contract, settings, caplog):
        settings.DEADLINE_SWEEP_BATCH_SIZE = 1000
        ended = timezone.now() - timedelta(days=8)

        with kit.broker_unreachable():
            requests = refund_requests(contract, count=2500, now=ended)
            told_before = set(EMAILS.owed().values_list("pk", flat=True))
            caplog.clear()
            counts = enforce_deadlines()

        assert counts["disputes.refund_requests_expire"] == 2500
        assert caplog.text.count("could not enqueue") == 3  # one per batch: 1000, 1000, 500
        assert not RefundRequest.objects.filter(pk__in=requests).exclude(status="EXPIRED").exists()
        assert SweepRun.objects.get(name="deadlines").handled == 2500
        told = EMAILS.owed().exclude(pk__in=told_before)
        assert told.filter(kind="refunded").count() == 5000  # the client and the freelancer of each
        assert mail.outbox == []


class TestTheOutboxIsWrittenWithTheChange:
    def test_a_rolled_back_action_leaves_no_outbox_row(self, contract):
        request = kit.end_contract(contract)
        before = Notification.objects.count()

        with pytest.raises(RuntimeError), transaction.atomic():
            dispute_services.refund_request_accept(
                refund_request=request, actor=contract.freelancer, now=timezone.now()
            )
            raise RuntimeError("the request failed after the action")

        assert Notification.objects.count() == before
        assert RefundRequest.objects.get(pk=request.pk).status == RefundRequest.Status.OPEN

    def test_a_committed_action_always_leaves_its_outbox_rows(self, contract, broker_down):
        request = kit.end_contract(contract)

        dispute_services.refund_request_accept(
            refund_request=request, actor=contract.freelancer, now=timezone.now()
        )

        told = Notification.objects.filter(kind="refunded")
        assert told.count() == 1
        assert set(told.values_list("emailed_at", flat=True)) == {None}
        assert not told.filter(email_next_attempt_at=None).exists()


def refund_requests(contract, *, count: int, now) -> list[int]:
    """End ``contract`` with ``count`` funded milestones of 500.00, paying 200.00 of each.

    The milestones and their funding are written in bulk (the rows milestone_create and
    milestone_fund leave, without their timeline and notifications); the ending is the
    service's. Returns the refund requests' ids.
    """
    amount = Decimal("500.00")
    escrows = Account.objects.bulk_create(
        Account(kind=Account.Kind.ESCROW, currency=contract.currency, created_at=now)
        for _ in range(count)
    )
    milestones = Milestone.objects.bulk_create(
        Milestone(
            contract=contract,
            title=f"Milestone {number}",
            amount=amount,
            status=Milestone.Status.FUNDED,
            escrow_account=escrow,
            created_at=now,
            funded_at=now,
        )
        for number, escrow in enumerate(escrows, start=1)
    )
    funding = ledger.account_get_or_create(
        kind=Account.Kind.FUNDING, currency=contract.currency, owner=contract.client, now=now
    )
    with transaction.atomic():
        ledger.post_many(
            movements=[
                ledger.Movement(
                    kind=LedgerTransaction.Kind.FUNDING,
                    currency=contract.currency,
                    legs=[
                        ledger.Leg(funding, -amount),
                        ledger.Leg(milestone.escrow_account_id, amount),
                    ],
                    memo=f"Fund milestone #{milestone.pk}",
                    milestone=milestone,
                    created_by=contract.client,
                )
                for milestone in milestones
            ],
            now=now,
        )
    ended = dispute_services.contract_end(
        contract=contract,
        actor=contract.client,
        payments={milestone.pk: "200.00" for milestone in milestones},
        now=now,
    )
    return [request.pk for request in ended]
