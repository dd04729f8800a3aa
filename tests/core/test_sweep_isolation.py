"""Isolated sweeps: one bad row never holds back its batch, nor one sweep the others.

The poisoned row here is real data gone wrong: a refund request that asks back more than its
escrow holds, so refunding it fails in the ledger. Its batch is retried one row at a time, the
others are refunded, and the bad one is marked stuck for staff, who mend it and retry it.
"""

import logging
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from core import deadlines
from core.models import StuckDeadline
from disputes.models import Dispute, RefundRequest
from tests.kit import (
    ContractFactory,
    UserFactory,
    browser_for,
    declare_broken_sweep,
    end_contract,
    file_dispute,
    support,
)

pytestmark = pytest.mark.django_db

START = timezone.datetime(2026, 6, 1, 9, 0, tzinfo=timezone.UTC)
EXPIRE = "disputes.refund_requests_expire"


@pytest.fixture
def requests():
    client, freelancer = UserFactory(), UserFactory()
    return [
        end_contract(ContractFactory(client=client, freelancer=freelancer), now=START)
        for _ in range(5)
    ]


def poison(request: RefundRequest) -> None:
    """Make the request ask back 1.00 more than its escrow holds (the ledger refuses it)."""
    RefundRequest.objects.filter(pk=request.pk).update(
        amount=F("amount") + 1, escrowed=F("escrowed") + 1
    )


def mend(request: RefundRequest) -> None:
    RefundRequest.objects.filter(pk=request.pk).update(
        amount=F("amount") - 1, escrowed=F("escrowed") - 1
    )


def statuses(requests) -> list[str]:
    return [RefundRequest.objects.get(pk=r.pk).status for r in requests]


class TestAPoisonedRow:
    def test_does_not_hold_back_the_other_rows_of_its_batch(self, requests, caplog):
        poison(requests[2])
        due = requests[0].response_due_at

        with caplog.at_level(logging.ERROR, logger="core.sweeps"):
            counts = deadlines.enforce_deadlines(now=due, batch_size=2)

        assert counts[EXPIRE] == 4
        assert statuses(requests) == ["EXPIRED", "EXPIRED", "OPEN", "EXPIRED", "EXPIRED"]
        stuck = StuckDeadline.objects.get()
        assert (stuck.model, stuck.kind, stuck.object_id) == (
            "disputes.refundrequest",
            "refund_request_response",
            requests[2].pk,
        )
        assert "InsufficientFunds" in stuck.error
        assert any("is stuck" in record.message for record in caplog.records)
        call_command("check_ledger")

    def test_does_not_stop_the_other_sweeps(self, requests, contract):
        dispute = file_dispute(end_contract(contract, now=START), now=START)
        poison(requests[0])

        counts = deadlines.enforce_deadlines(now=dispute.response_due_at, batch_size=2)

        assert counts["disputes.client_answers_expire"] == 1
        assert Dispute.objects.get(pk=dispute.pk).outcome == Dispute.Outcome.CLIENT_SILENT

    def test_is_skipped_by_later_runs_until_staff_retry_it(self, requests):
        poison(requests[2])
        due = requests[0].response_due_at
        deadlines.enforce_deadlines(now=due, batch_size=2)

        again = deadlines.enforce_deadlines(now=due + timedelta(minutes=1), batch_size=2)

        assert again[EXPIRE] == 0
        assert StuckDeadline.objects.get().failures == 1

    def test_staff_see_it_in_the_admin_and_retry_it_once_mended(self, requests):
        poison(requests[2])
        due = requests[0].response_due_at
        deadlines.enforce_deadlines(now=due, batch_size=2)
        staff = support("sue-support")
        browser = browser_for(staff)
        url = reverse("admin:core_stuckdeadline_changelist")

        listing = browser.get(url)
        mend(requests[2])
        retried = browser.post(
            url,
            {"action": "retry", "_selected_action": [StuckDeadline.objects.get().pk]},
            follow=True,
        )

        assert listing.status_code == 200
        assert f"refundrequest #{requests[2].pk}" in listing.content.decode()
        assert "Applied 1 deadline(s)." in retried.content.decode()
        assert statuses(requests)[2] == "EXPIRED"
        assert StuckDeadline.objects.get().resolved_at is not None
        call_command("check_ledger")

    def test_a_retry_that_fails_again_keeps_it_stuck_with_the_new_error(self, requests):
        poison(requests[2])
        due = requests[0].response_due_at
        deadlines.enforce_deadlines(now=due, batch_size=2)

        applied = deadlines.retry_stuck(StuckDeadline.objects.get(), now=due + timedelta(hours=1))

        assert applied is False
        open_marks = StuckDeadline.objects.filter(resolved_at__isnull=True)
        assert open_marks.count() == 1
        assert statuses(requests)[2] == "OPEN"

    def test_only_support_and_superusers_see_stuck_deadlines(self, requests):
        agent = UserFactory(is_staff=True)

        response = browser_for(agent).get(reverse("admin:core_stuckdeadline_changelist"))

        assert response.status_code == 403


class TestAFailingSweep:
    def test_is_logged_and_the_others_run(self, requests, caplog, monkeypatch):
        declare_broken_sweep(monkeypatch, "tests.broken")

        with caplog.at_level(logging.ERROR, logger="core.sweeps"):
            counts = deadlines.enforce_deadlines(now=requests[0].response_due_at)

        assert counts["tests.broken"] == -1
        assert counts[EXPIRE] == 5
        assert any("tests.broken failed" in record.message for record in caplog.records)
        assert Decimal(RefundRequest.objects.filter(status="EXPIRED").count()) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestWithRealCommits:
    def test_each_good_row_commits_and_the_bad_one_is_stuck(self):
        client, freelancer = UserFactory(), UserFactory()
        requests = [
            end_contract(ContractFactory(client=client, freelancer=freelancer), now=START)
            for _ in range(5)
        ]
        poison(requests[1])

        counts = deadlines.enforce_deadlines(now=requests[0].response_due_at, batch_size=3)

        assert counts[EXPIRE] == 4
        assert statuses(requests) == ["EXPIRED", "OPEN", "EXPIRED", "EXPIRED", "EXPIRED"]
        assert StuckDeadline.objects.filter(object_id=requests[1].pk).exists()
        call_command("check_ledger")


class TestAPoisonedReminder:
    def test_does_not_hold_back_the_other_reminders_and_is_marked_stuck(
        self, requests, monkeypatch
    ):
        from dataclasses import replace

        from accounts.models import Notification
        from core import deadlines as declarations
        from disputes.models import RefundRequest as Model

        key = (Model._meta.label_lower, "refund_request_response")
        kind = declarations._kinds[key]
        bad = requests[1].pk

        def remind(rows, hours, now):
            if any(row.pk == bad for row in rows):
                raise RuntimeError("this reminder cannot be written")
            kind.remind(rows, hours, now)

        monkeypatch.setitem(declarations._kinds, key, replace(kind, remind=remind))
        soon = requests[0].response_due_at - timedelta(hours=20)

        deadlines.enforce_deadlines(now=soon, batch_size=2)
        again = deadlines.enforce_deadlines(now=soon + timedelta(minutes=1), batch_size=2)

        reminded = set(
            Notification.objects.filter(kind="deadline_reminder").values_list("url", flat=True)
        )
        assert len(reminded) == 4
        stuck = StuckDeadline.objects.get()
        assert (stuck.kind, stuck.object_id, stuck.failures) == (
            "refund_request_response reminder",
            bad,
            1,
        )
        assert again["disputes.refund_request_reminders"] == 0
