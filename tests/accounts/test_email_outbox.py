"""The e-mail outbox: each notification owes one e-mail, sent at least once, and once per row
in normal operation, whatever happens to the task that should have sent it."""

import smtplib
import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import connection
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import Notification
from accounts.outbox import EMAILS
from accounts.services import Message, notifications_send
from accounts.tasks import deliver_notification_emails, relay_notification_emails
from core import outbox
from core.models import SweepRun
from tests.kit import UserFactory

pytestmark = pytest.mark.django_db

GRACE = timedelta(minutes=2)
SECOND = timedelta(seconds=1)


@pytest.fixture(autouse=True)
def _outbox(settings):
    settings.EMAIL_OUTBOX_GRACE = GRACE
    settings.EMAIL_OUTBOX_BATCH_SIZE = 100
    settings.EMAIL_OUTBOX_MAX_ATTEMPTS = 5


@pytest.fixture
def now():
    return timezone.now()


def tell(users, *, now) -> list[int]:
    """Notify ``users`` in a change whose after-commit task never runs (as a lost task).

    Outside ``transaction=True`` tests nothing commits, so the on-commit enqueue never happens.
    """
    return notifications_send(
        messages=[Message(user_id=u.pk, kind="k", title=f"To {u.username}") for u in users],
        now=now,
    )


def sent_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


# E-mail backends that fail the way mail servers do.
REFUSED = "bounce@example.com"


class RefusingBackend(EmailBackend):
    """Refuses every message to REFUSED, as a server refuses an unknown mailbox."""

    def send_messages(self, messages):
        for message in messages:
            if REFUSED in message.to:
                raise smtplib.SMTPRecipientsRefused({REFUSED: (550, b"No such user")})
        return super().send_messages(messages)


class DownBackend(EmailBackend):
    """A mail server that cannot be reached."""

    def open(self):
        raise ConnectionRefusedError(111, "Connection refused")


class TestTheTaskAfterCommit:
    def test_e_mails_each_notification_once_and_settles_its_row(
        self, freelancer, now, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            (notice_id,) = tell([freelancer], now=now)
        deliver_notification_emails(notification_ids=[notice_id])

        notice = Notification.objects.get(pk=notice_id)
        assert sent_to() == [freelancer.email]
        assert notice.emailed_at is not None
        assert notice.email_next_attempt_at is None
        assert (notice.email_attempts, notice.email_error) == (1, "")

    def test_a_new_notification_is_owed_until_the_grace_period_ends(self, freelancer, now):
        (notice_id,) = tell([freelancer], now=now)

        notice = Notification.objects.get(pk=notice_id)
        assert notice.email_next_attempt_at == now + GRACE
        assert (notice.emailed_at, notice.email_attempts) == (None, 0)

    def test_the_broker_down_leaves_the_e_mail_owed_and_raises_nothing(
        self, freelancer, now, monkeypatch, caplog, django_capture_on_commit_callbacks
    ):
        def broker_down(*args, **kwargs):
            raise OperationalError("Error 111 connecting to 127.0.0.1:1. Connection refused.")

        monkeypatch.setattr(deliver_notification_emails, "apply_async", broker_down)

        with django_capture_on_commit_callbacks(execute=True):
            (notice_id,) = tell([freelancer], now=now)

        assert mail.outbox == []
        assert Notification.objects.get(pk=notice_id).email_next_attempt_at == now + GRACE
        assert "the relay sweep delivers them" in caplog.text

    def test_leaves_alone_the_e_mails_another_delivery_claimed(self, freelancer, now):
        ids = tell([freelancer], now=now)
        outbox.claim(EMAILS, now=now, ids=ids)

        sent = deliver_notification_emails(notification_ids=ids)

        assert (sent, mail.outbox) == (0, [])


class TestTheRelaySweep:
    def test_leaves_new_e_mails_to_their_task_for_the_grace_period_then_sends_each_once(
        self, client_user, freelancer, now
    ):
        tell([client_user, freelancer], now=now)

        early = outbox.redeliver(EMAILS, now=now + GRACE - SECOND)
        sent_early = len(mail.outbox)
        first = outbox.redeliver(EMAILS, now=now + GRACE)
        again = outbox.redeliver(EMAILS, now=now + 3 * GRACE)

        assert (early.claimed, sent_early) == (0, 0)
        assert first.delivered == 2
        assert again.claimed == 0
        assert sent_to() == sorted([client_user.email, freelancer.email])
        assert not Notification.objects.filter(emailed_at=None).exists()

    def test_sends_an_e_mail_whose_delivery_was_killed_once_after_its_lease(self, freelancer, now):
        ids = tell([freelancer], now=now)
        claimed_at = now + SECOND
        outbox.claim(EMAILS, now=claimed_at, ids=ids)  # ... and the worker died: never settled

        during_lease = outbox.redeliver(EMAILS, now=claimed_at + GRACE - SECOND)
        after_lease = outbox.redeliver(EMAILS, now=claimed_at + GRACE)
        twice = outbox.redeliver(EMAILS, now=claimed_at + 10 * GRACE)

        assert during_lease.claimed == 0
        assert after_lease.delivered == 1
        assert twice.claimed == 0
        assert sent_to() == [freelancer.email]
        assert Notification.objects.get().email_attempts == 2

    def test_works_through_every_batch(self, settings, now):
        settings.EMAIL_OUTBOX_BATCH_SIZE = 10
        users = UserFactory.create_batch(25)
        tell(users, now=now)

        done = outbox.redeliver(EMAILS, now=now + GRACE)

        assert (done.claimed, done.delivered) == (25, 25)
        assert sent_to() == sorted(u.email for u in users)

    def test_records_its_run(self, freelancer, now):
        tell([freelancer], now=now - GRACE)

        relay_notification_emails()

        run = SweepRun.objects.get(name="emails")
        assert run.handled == 1
        assert run.started_at <= run.finished_at
        assert sent_to() == [freelancer.email]


class TestAnEmailThatFails:
    def test_a_refused_address_is_tried_again_later_and_given_up_with_an_error(
        self, settings, freelancer, now, caplog
    ):
        settings.EMAIL_BACKEND = "tests.accounts.test_email_outbox.RefusingBackend"
        bounced = UserFactory(email=REFUSED)
        tell([freelancer, bounced], now=now)
        notice = Notification.objects.filter(user=bounced)

        first = outbox.redeliver(EMAILS, now=now + GRACE)
        after_first = notice.values_list("email_attempts", "email_next_attempt_at").get()
        at = now + GRACE
        for wait in (GRACE, 2 * GRACE, 4 * GRACE, 8 * GRACE):
            at += wait
            outbox.redeliver(EMAILS, now=at)
        final = outbox.redeliver(EMAILS, now=at + 100 * GRACE)

        assert (first.delivered, first.failed) == (1, 1)
        assert after_first == (1, now + 2 * GRACE)
        assert sent_to() == [freelancer.email]
        gave_up = notice.get()
        assert (gave_up.email_attempts, gave_up.email_next_attempt_at) == (5, None)
        assert gave_up.emailed_at is None
        assert "Given up after 5 attempt(s): SMTPRecipientsRefused" in gave_up.email_error
        assert f"gave up delivering #{gave_up.pk}" in caplog.text
        assert final.claimed == 0

    def test_an_unreachable_mail_server_costs_no_attempt(self, settings, freelancer, now):
        settings.EMAIL_BACKEND = "tests.accounts.test_email_outbox.DownBackend"
        tell([freelancer], now=now)

        down = outbox.redeliver(EMAILS, now=now + GRACE)
        waiting = Notification.objects.get()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        back = outbox.redeliver(EMAILS, now=now + 2 * GRACE)

        assert (down.unreachable, down.delivered) == (1, 0)
        assert waiting.email_attempts == 0
        assert waiting.email_next_attempt_at == now + 2 * GRACE
        assert "ConnectionRefusedError" in waiting.email_error
        assert back.delivered == 1
        assert sent_to() == [freelancer.email]

    def test_a_user_without_an_address_is_owed_nothing(self, now):
        silent = UserFactory(email="")
        tell([silent], now=now)

        done = outbox.redeliver(EMAILS, now=now + GRACE)
        again = outbox.redeliver(EMAILS, now=now + 10 * GRACE)

        notice = Notification.objects.get()
        assert (done.skipped, again.claimed) == (1, 0)
        assert (notice.emailed_at, notice.email_next_attempt_at) == (None, None)
        assert notice.email_error == "The user has no e-mail address."
        assert mail.outbox == []

    def test_a_delivery_that_never_finishes_is_given_up_after_every_attempt(
        self, freelancer, now, caplog
    ):
        (notice_id,) = tell([freelancer], now=now)
        at = now
        for attempt in range(1, 6):  # each claim's worker dies before it settles
            at += GRACE
            assert outbox.claim(EMAILS, now=at) == {notice_id: attempt}

        done = outbox.redeliver(EMAILS, now=at + GRACE)

        notice = Notification.objects.get()
        assert (done.given_up, done.claimed) == (1, 0)
        assert notice.email_next_attempt_at is None
        assert "every attempt ended without a result" in notice.email_error
        assert f"gave up delivering #{notice_id}" in caplog.text
        assert mail.outbox == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
class TestTwoRelaysAtOnce:
    def test_send_each_e_mail_once(self, settings, monkeypatch, now):
        settings.EMAIL_OUTBOX_BATCH_SIZE = 20
        monkeypatch.setattr(outbox, "enqueue", lambda kind, ids: False)  # every task lost
        users = UserFactory.create_batch(150)
        tell(users, now=now)
        start = threading.Barrier(2)

        def relay():
            try:
                start.wait()
                outbox.redeliver(EMAILS, now=now + GRACE)
            finally:
                connection.close()

        threads = [threading.Thread(target=relay) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert sent_to() == sorted(u.email for u in users)
        assert not Notification.objects.exclude(email_attempts=1).exists()
