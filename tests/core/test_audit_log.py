"""The audit log: every staff action is recorded with who, when and from where, the system's
sweeps and the parties are not, and nobody can change or delete an entry."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.urls import reverse

from core import sweeps
from core.models import AuditEntry, AuditEntryIsFinal
from disputes.models import Dispute, RefundRequest
from tests.kit import (
    ContractFactory,
    UserFactory,
    api_as,
    browser_for,
    declined,
    ended,
    support,
    suspend,
    url,
)

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FROM = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Firefox/140.0 (agent's laptop)"}
Kind = AuditEntry.Kind


def entries(**filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(**filters).order_by("pk"))


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_staff=True, is_superuser=True)


@pytest.fixture
def entry(agent):
    """One entry of the log: the agent read something."""
    return AuditEntry.objects.create(
        at=START, user=agent, kind=Kind.READ, name="case", description="Dispute #1"
    )


class TestStaffActionsAreRecorded:
    def test_an_agent_proposing_a_resolution_by_the_api_is_recorded_with_user_place_and_time(
        self, contract, agent
    ):
        dispute = declined(contract, now=START)
        api = api_as(agent)

        with time_machine.travel(START + timedelta(hours=3), tick=False):
            response = api.post(
                url(dispute, "resolution/"),
                {"to_freelancer": "200.00", "to_client": "100.00", "rationale": "Two thirds."},
                **FROM,
            )

        assert response.status_code == 201, response.content
        (proposal,) = entries(name="dispute.propose")
        assert proposal.kind == Kind.ACTION
        assert proposal.user == agent
        assert proposal.at == START + timedelta(hours=3)
        assert proposal.ip_address == "203.0.113.7"
        assert proposal.user_agent == "Firefox/140.0 (agent's laptop)"
        assert proposal.path == url(dispute, "resolution/")
        assert proposal.content_type == ContentType.objects.get_for_model(Dispute)
        assert proposal.object_id == str(dispute.pk)
        assert proposal.description == f"{dispute}: propose as agent"
        # Proposing takes the unassigned case, on the record too.
        assert [e.name for e in entries(kind=Kind.ACTION)] == [
            "dispute.assign_agent",
            "dispute.propose",
        ]

    def test_an_agent_proposing_on_the_case_page_is_recorded(self, contract, agent):
        dispute = declined(contract, now=START)
        browser = browser_for(agent)

        browser.post(
            reverse("admin:mediation_mediationqueueitem_propose", args=[dispute.pk]),
            {"to_freelancer": "150.00", "to_client": "150.00", "rationale": "Half each."},
            **FROM,
        )

        (proposal,) = entries(name="dispute.propose")
        assert proposal.user == agent
        assert proposal.ip_address == "203.0.113.7"

    def test_a_note_is_recorded_as_an_action(self, contract, agent):
        dispute = declined(contract, now=START)

        api_as(agent).post(url(dispute, "notes/"), {"text": "Called the client."}, **FROM)

        (note,) = entries(kind=Kind.ACTION)
        assert note.name == "dispute.note"
        assert note.user == agent

    def test_a_suspension_is_recorded(self, stranger):
        by = support("sue-support")

        suspend(stranger, by=by)

        (suspension,) = entries(name="user.suspend")
        assert suspension.user == by
        assert suspension.object_id == str(stranger.pk)
        assert "Ignored an award." in suspension.description

    def test_the_parties_own_actions_are_not_recorded(self, contract):
        declined(contract, now=START)

        assert entries() == []

    def test_the_deadline_sweeps_write_no_entry(self):
        for _ in range(3):
            ended(ContractFactory(), now=START)

        done = sweeps.enforce_deadlines(now=START + timedelta(days=8))

        assert done["disputes.refund_requests_expire"] == 3
        assert set(RefundRequest.objects.values_list("status", flat=True)) == {"EXPIRED"}
        assert entries() == []


class TestAdminChangesAreRecorded:
    def test_a_change_in_the_admin(self, superuser, stranger):
        browser = browser_for(superuser)
        change = reverse("admin:auth_group_add")

        browser.post(change, {"name": "Reviewers"}, **FROM)

        (added,) = entries(kind=Kind.ADMIN_CHANGE)
        assert added.name == "addition"
        assert added.user == superuser
        assert added.description.startswith("Reviewers")
        assert added.ip_address == "203.0.113.7"

    @pytest.mark.parametrize("count", [1, 3])
    def test_each_row_deleted_by_the_bulk_action_once(self, superuser, count):
        groups = [Group.objects.create(name=f"Temporary {n}") for n in range(count)]
        browser = browser_for(superuser)

        browser.post(
            reverse("admin:auth_group_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [g.pk for g in groups],
                "post": "yes",
            },
        )

        assert not Group.objects.filter(name__startswith="Temporary").exists()
        deleted = entries(kind=Kind.ADMIN_CHANGE)
        assert [e.name for e in deleted] == ["deletion"] * count
        assert sorted(e.object_id for e in deleted) == sorted(str(g.pk) for g in groups)


class TestNobodyChangesTheLog:
    def test_an_entry_cannot_be_saved_again(self, entry):
        entry.description = "Nothing happened"

        with pytest.raises(AuditEntryIsFinal):
            entry.save()

    def test_an_entry_cannot_be_deleted(self, entry):
        with pytest.raises(AuditEntryIsFinal):
            entry.delete()

    def test_entries_cannot_be_updated_or_deleted_in_bulk(self, entry):
        with pytest.raises(AuditEntryIsFinal):
            AuditEntry.objects.update(description="Nothing happened")
        with pytest.raises(AuditEntryIsFinal):
            AuditEntry.objects.filter(pk=entry.pk).delete()
        with pytest.raises(AuditEntryIsFinal), transaction.atomic():
            AuditEntry.objects.bulk_update([entry], ["description"])
        with pytest.raises(AuditEntryIsFinal):
            AuditEntry._base_manager.filter(pk=entry.pk).update(name="other")

        assert AuditEntry.objects.get().description == "Dispute #1"

    def test_an_account_with_entries_is_not_deleted(self, entry, agent):
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError):
            agent.delete()

    def test_superusers_read_it_in_the_admin_and_cannot_add_change_or_delete(
        self, entry, superuser
    ):
        browser = browser_for(superuser)
        changelist = reverse("admin:core_auditentry_changelist")
        change = reverse("admin:core_auditentry_change", args=[entry.pk])

        listed = browser.get(changelist)
        shown = browser.get(change)
        edited = browser.post(change, {"description": "Nothing happened"})
        added = browser.get(reverse("admin:core_auditentry_add"))
        deleted = browser.post(
            reverse("admin:core_auditentry_delete", args=[entry.pk]), {"post": "yes"}
        )
        browser.post(
            changelist,
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )

        assert listed.status_code == 200
        assert "delete_selected" not in listed.content.decode()
        assert shown.status_code == 200
        assert 'name="description"' not in shown.content.decode()
        assert edited.status_code == 403
        assert added.status_code == 403
        assert deleted.status_code == 403
        assert AuditEntry.objects.get(pk=entry.pk).description == "Dispute #1"

    def test_it_filters_by_user_kind_and_date(self, entry, superuser):
        browser = browser_for(superuser)
        changelist = reverse("admin:core_auditentry_changelist")

        by_user = browser.get(changelist, {"user": entry.user_id})
        by_other = browser.get(changelist, {"user": superuser.pk})
        by_kind = browser.get(changelist, {"kind": "ACTION"})
        by_day = browser.get(
            changelist,
            {"at__gte": "2026-11-02 00:00:00+00:00", "at__lt": "2026-11-03 00:00:00+00:00"},
        )
        searched = browser.get(changelist, {"q": entry.user.username})

        assert entry.user.username in by_user.content.decode()
        assert by_user.context["cl"].result_count == 1
        assert by_other.context["cl"].result_count == 0
        assert by_kind.context["cl"].result_count == 0
        assert by_day.context["cl"].result_count == 1
        assert searched.context["cl"].result_count == 1

    def test_staff_who_are_not_superusers_do_not_see_it(self, entry, staff):
        browser = browser_for(staff)

        index = browser.get(reverse("admin:index"))
        listed = browser.get(reverse("admin:core_auditentry_changelist"))

        assert reverse("admin:core_auditentry_changelist") not in index.content.decode()
        assert listed.status_code == 403


class TestWhereFrom:
    def test_behind_a_proxy_the_last_forwarded_address_is_the_clients(
        self, settings, contract, agent
    ):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
        dispute = declined(contract, now=START)

        api_as(agent).get(
            url(dispute), HTTP_X_FORWARDED_FOR="198.51.100.1, 192.0.2.44", REMOTE_ADDR="10.0.0.2"
        )

        (read,) = entries()
        assert read.ip_address == "192.0.2.44"
