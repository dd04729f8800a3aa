"""Every moment in the reader's time zone, with the zone named: pages, stored texts and e-mails.

Timeline notes and notification bodies store their moments once, in UTC; the freelancer reads
them in Paris, the client in New York, each on the page and in the e-mail.
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification
from accounts.outbox import deliver_emails
from core.formats import in_reader_zone, local_when
from disputes import services
from tests import kit
from tests.kit import browser_for

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture(autouse=True)
def zones(freelancer, client_user):
    freelancer.time_zone, client_user.time_zone = "Europe/Paris", "America/New_York"
    freelancer.save(update_fields=["time_zone"])
    client_user.save(update_fields=["time_zone"])


@pytest.fixture
def extended(contract, agent):
    """A dispute awaiting the client, whose deadline an agent moved two days later."""
    dispute = kit.filed(contract)
    due_at = dispute.response_due_at + timedelta(days=2)
    services.dispute_extend(
        dispute=dispute, actor=agent, due_at=due_at, reason="Holidays.", now=timezone.now()
    )
    dispute.refresh_from_db()
    return dispute


class TestInReaderZone:
    def test_rewrites_each_stored_moment_in_the_zone_and_names_it(self):
        text = "Extended from 2026-12-07 00:49 UTC to 2026-12-09 23:30 UTC: Holidays."

        assert in_reader_zone(text, PARIS) == (
            "Extended from 7 Dec 2026, 01:49 CET to 10 Dec 2026, 00:30 CET: Holidays."
        )
        assert in_reader_zone(text, NEW_YORK) == (
            "Extended from 6 Dec 2026, 19:49 EST to 9 Dec 2026, 18:30 EST: Holidays."
        )

    def test_follows_summer_time(self):
        assert in_reader_zone("by 2026-07-01 12:00 UTC.", PARIS) == "by 1 Jul 2026, 14:00 CEST."

    def test_leaves_other_text_alone(self):
        text = "Order 2026-13-45 99:99 UTC, and 12:00 UTC alone."

        assert in_reader_zone(text, PARIS) == text


class TestPages:
    @pytest.mark.parametrize(("party", "zone"), [("freelancer", PARIS), ("client_user", NEW_YORK)])
    def test_the_deadline_extended_entry_is_in_the_readers_zone(
        self, extended, party, zone, request
    ):
        old = extended.response_due_at - timedelta(days=2)

        html = browser_for(request.getfixturevalue(party)).get(extended.get_absolute_url())

        page = html.content.decode()
        assert f"Extended from {local_when(old, zone)} to " in page
        assert f"to {local_when(extended.response_due_at, zone)}: Holidays." in page
        assert " UTC" not in page

    def test_the_inbox_shows_the_body_in_the_readers_zone(self, extended, freelancer):
        html = browser_for(freelancer).get(reverse("accounts:inbox")).content.decode()

        due = local_when(extended.response_due_at, PARIS)
        assert f"A mediation agent moved the deadline to {due}." in html
        assert " UTC" not in html

    @pytest.mark.parametrize(("party", "zone"), [("freelancer", PARIS), ("client_user", NEW_YORK)])
    def test_the_notice_of_non_resolution_is_in_the_readers_zone(
        self, contract, agent, party, zone, request
    ):
        dispute = kit.window(contract, agent)

        html = browser_for(request.getfixturevalue(party)).get(dispute.get_absolute_url())

        page = html.content.decode()
        assert f"Until {local_when(dispute.response_due_at, zone)} each party may agree" in page
        assert " UTC" not in page

    def test_a_refusal_after_the_deadline_names_it_in_the_readers_zone(self, contract, freelancer):
        refund = kit.ended(contract)
        late = refund.response_due_at + timedelta(minutes=1)
        browser = browser_for(freelancer)

        with time_machine.travel(late, tick=False):
            response = browser.post(
                reverse("disputes:refund-request-accept", args=[refund.pk]), follow=True
            )

        page = response.content.decode()
        assert local_when(refund.response_due_at, PARIS) in page
        assert " UTC" not in page


class TestEmails:
    def test_each_recipient_reads_the_moment_in_their_own_zone(
        self, extended, freelancer, client_user
    ):
        ids = list(
            Notification.objects.filter(kind="deadline_extended")
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        mail.outbox.clear()

        deliver_emails(ids, now=datetime.now(UTC))

        bodies = {message.to[0]: message.body for message in mail.outbox}
        due = extended.response_due_at
        assert f"moved the deadline to {local_when(due, PARIS)}." in bodies[freelancer.email]
        assert f"moved the deadline to {local_when(due, NEW_YORK)}." in bodies[client_user.email]
        assert all(" UTC" not in body for body in bodies.values())


class TestAdmin:
    @pytest.fixture
    def staff_in_paris(self, client):
        reader = kit.UserFactory(
            username="root", is_staff=True, is_superuser=True, time_zone="Europe/Paris"
        )
        client.force_login(reader)
        return client

    def test_the_timeline_inline_shows_notes_in_the_readers_zone(self, extended, staff_in_paris):
        old = extended.response_due_at - timedelta(days=2)
        assert extended.timeline.filter(note__contains=" UTC").exists()  # as stored

        response = staff_in_paris.get(reverse("admin:disputes_dispute_change", args=[extended.pk]))

        page = response.content.decode()
        assert f"Extended from {local_when(old, PARIS)} to " in page
        assert f"to {local_when(extended.response_due_at, PARIS)}: Holidays." in page
        assert " UTC" not in page
