"""Events are written with the change they report, by the declared actions, never without it."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone

from contracts import services as contracts
from core import deadlines
from core.actions import Lifecycle
from core.errors import DeadlineSettled
from core.sweeps import REMINDER_EVENT
from disputes import services as disputes
from tests import kit
from webhooks import catalog, events
from webhooks.models import Event


def declared_types() -> set[str]:
    """Every type a table declares: its actions' ``emits``, ``entering`` and ``created``."""
    found = {REMINDER_EVENT}
    for model in apps.get_models():
        lifecycle = getattr(model, "lifecycle", None)
        if not isinstance(lifecycle, Lifecycle) or model._meta.proxy:
            continue
        found |= set(lifecycle.created_emits) | set(lifecycle.entering.values())
        for action in lifecycle:
            found |= set(lifecycle.emits(action))
    return found


class TestTheCatalog:
    def test_every_declared_type_is_in_the_catalog(self):
        assert declared_types() <= set(catalog.TYPES)

    def test_every_type_of_the_catalog_is_emitted(self):
        assert set(catalog.TYPES) - declared_types() == set()

    def test_the_offers_declare_their_types_on_their_table(self):
        from offers.models import Offer

        lifecycle = Offer.lifecycle
        declared = set(lifecycle.created_emits)
        for action in lifecycle:
            declared |= set(lifecycle.emits(action))
        assert declared == {
            "offer.made",
            "offer.accepted",
            "offer.declined",
            "offer.withdrawn",
            "offer.lapsed",
        }

    def test_every_table_that_emits_has_a_subject(self):
        for model in apps.get_models():
            lifecycle = getattr(model, "lifecycle", None)
            if isinstance(lifecycle, Lifecycle) and not model._meta.proxy:
                emits = lifecycle.created_emits or any(lifecycle.emits(a) for a in lifecycle)
                if emits:
                    assert events.subject_of(lifecycle.subject[0]), model

    @pytest.mark.parametrize(
        "patterns,type_,matched",
        [
            (["*"], "dispute.closed", True),
            (["dispute.*"], "dispute.closed", True),
            (["dispute.*"], "deadline.reminder", False),
            (["offer.accepted"], "offer.accepted", True),
            (["offer.accepted"], "offer.made", False),
        ],
    )
    def test_patterns(self, patterns, type_, matched):
        assert catalog.matches(patterns, type_) is matched


@pytest.mark.django_db(transaction=True)
class TestTheOutbox:
    """On SQLite and on PostgreSQL alike (transactions are real here)."""

    def test_a_rolled_back_action_leaves_no_event(self, contract):
        milestone = contracts.milestone_create(
            contract=contract, actor=contract.client, title="M", amount="100.00", now=timezone.now()
        )
        before = Event.objects.count()

        with pytest.raises(RuntimeError), transaction.atomic():
            contracts.milestone_fund(milestone=milestone, actor=contract.client, now=timezone.now())
            assert Event.objects.filter(type="milestone.funded").count() == 2
            raise RuntimeError("the request failed after the action")

        assert Event.objects.count() == before
        assert not Event.objects.filter(type="milestone.funded").exists()

    def test_a_committed_action_always_has_its_events(self, contract):
        milestone = contracts.milestone_create(
            contract=contract, actor=contract.client, title="M", amount="100.00", now=timezone.now()
        )

        contracts.milestone_fund(milestone=milestone, actor=contract.client, now=timezone.now())

        funded = Event.objects.filter(type="milestone.funded", subject_id=milestone.pk)
        assert sorted(funded.values_list("user_id", flat=True)) == sorted(
            [contract.client_id, contract.freelancer_id]
        )
        assert all(e.data["status"] == "FUNDED" for e in funded)

    def test_a_sweep_batch_that_fails_leaves_no_event_and_its_rows_none_twice(
        self, contract, monkeypatch
    ):
        request = kit.refund_request(contract, now=timezone.now() - timedelta(days=8))
        from webhooks import relay

        calls = []
        original = relay.endpoints_of

        def failing_once(users):
            calls.append(1)
            if len(calls) == 1:
                raise RuntimeError("the batch failed")
            return original(users)

        monkeypatch.setattr(relay, "endpoints_of", failing_once)

        deadlines.sweep("disputes.refund_requests_expire", now=timezone.now())

        request.refresh_from_db()
        assert request.status == "EXPIRED"  # retried alone after the batch failed
        assert Event.objects.filter(type="refund_request.expired").count() == 2


@pytest.mark.django_db
class TestWhatEventsCarry:
    def test_the_contract_reads_as_each_party_reads_it(self, contract):
        roles = {
            e.user_id: e.data["role"]
            for e in Event.objects.filter(type="contract.created", subject_id=contract.pk)
        }

        assert roles == {contract.client_id: "client", contract.freelancer_id: "freelancer"}

    def test_data_is_what_the_get_of_the_contract_and_the_milestone_returns(self, contract):
        milestone = kit.funded(contract)
        disputes.contract_end(
            contract=contract,
            actor=contract.client,
            payments={milestone.pk: "500.00"},
            now=timezone.now(),
        )

        for user in (contract.client, contract.freelancer):
            reader = kit.api_as(user)
            ended = Event.objects.get(type="contract.ended", user=user)
            funded = Event.objects.get(type="milestone.funded", user=user)
            assert ended.data == reader.get(f"/api/v1/contracts/{contract.pk}/").json()
            assert funded.data["status"] == "FUNDED"  # as the funding left it
            released = Event.objects.get(type="milestone.released", user=user)
            assert released.data == reader.get(f"/api/v1/milestones/{milestone.pk}/").json()

    def test_a_sweep_writes_its_events_without_data_and_the_relay_builds_it(self, contract):
        request = kit.refund_request(contract, now=timezone.now() - timedelta(days=8))

        deadlines.sweep("disputes.refund_requests_expire", now=timezone.now())

        expired = Event.objects.filter(type="refund_request.expired")
        assert expired.count() == 2
        assert all(e.data is None for e in expired)
        assert events.fill_pending() == 2
        for event in expired.all():
            reader = kit.api_as(event.user)
            assert event.data == reader.get(f"/api/v1/refund-requests/{request.pk}/").json()

    def test_reminders_are_events_too(self, contract):
        now = timezone.now()
        milestone = kit.submitted(contract, now=now - timedelta(days=13))  # due in 1 day

        deadlines.enforce_deadlines(now=now)

        reminded = Event.objects.filter(type="deadline.reminder", subject_id=milestone.pk)
        assert reminded.count() == 2
        events.fill_pending()
        assert {e.data["deadline"]["kind"] for e in reminded.all()} == {"auto_release"}

    def test_a_person_action_that_applies_a_passed_deadline_snapshots_both(self, contract):
        now = timezone.now()
        request = kit.refund_request(contract, now=now - timedelta(days=8))

        with pytest.raises(DeadlineSettled):
            disputes.refund_request_accept(
                refund_request=request, actor=contract.freelancer, now=now
            )

        expired = Event.objects.filter(type="refund_request.expired")
        assert expired.count() == 2
        assert all(e.data["status"] == "EXPIRED" for e in expired)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_users_event_ids_commit_in_order(contract):
    """A second writer for the same user waits for the first to commit, then draws higher ids:
    a poller that saw an id never misses a lower one committed later."""
    lifecycle = type(contract).lifecycle
    first_wrote = threading.Event()
    second_done = threading.Event()
    ids: dict[str, list[int]] = {}

    def second():
        try:
            first_wrote.wait(5)
            with transaction.atomic():
                ids["second"] = events.record(
                    ("contract.created",), [contract], lifecycle=lifecycle, now=timezone.now()
                )
        finally:
            connection.close()
            second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with transaction.atomic():
        ids["first"] = events.record(
            ("contract.created",), [contract], lifecycle=lifecycle, now=timezone.now()
        )
        first_wrote.set()
        assert not second_done.wait(1)  # held by this transaction's stream lock
    thread.join(10)

    assert max(ids["first"]) < min(ids["second"])


@pytest.mark.django_db
def test_an_event_whose_data_cannot_be_built_holds_back_no_other(contract, monkeypatch):
    kit.refund_request(contract, now=timezone.now() - timedelta(days=8))
    deadlines.sweep("disputes.refund_requests_expire", now=timezone.now())
    broken, fine = Event.objects.filter(type="refund_request.expired").order_by("pk")
    original = events.snapshots

    def failing_for_one(subject, pairs):
        if (broken.subject_id, broken.user_id) in pairs:
            raise RuntimeError("cannot serialize")
        return original(subject, pairs)

    monkeypatch.setattr(events, "snapshots", failing_for_one)

    assert events.fill_pending() == 1

    broken.refresh_from_db()
    fine.refresh_from_db()
    assert broken.data is None
    assert fine.data["status"] == "EXPIRED"


@pytest.mark.django_db
def test_deleting_a_user_deletes_their_events(stranger):
    Event.objects.create(
        user=stranger,
        type="contract.created",
        created_at=timezone.now(),
        subject_model="contracts.contract",
        subject_id=1,
        data={},
    )

    stranger.delete()

    assert not Event.objects.exists()
