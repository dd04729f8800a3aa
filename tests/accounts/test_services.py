import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import Notification
from accounts.services import Message, notification_mark_read, notifications_send
from core import outbox

pytestmark = pytest.mark.django_db


class TestNotificationsSend:
    def test_e_mails_the_right_user_only_after_the_transaction_commits(
        self, client_user, freelancer, django_capture_on_commit_callbacks
    ):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            transaction.atomic(),
        ):
            notifications_send(
                messages=[Message(user_id=freelancer.pk, kind="k", title="Funded", body="b")],
                now=timezone.now(),
            )
            sent_inside = len(mail.outbox)

        assert sent_inside == 0
        enqueued = [c for c in callbacks if getattr(c, "func", None) is outbox.enqueue]
        assert len(enqueued) == 1  # beside it, a cache other than the database forgets the count
        assert [m.to for m in mail.outbox] == [[freelancer.email]]
        assert mail.outbox[0].subject == "Funded"
        assert Notification.objects.get().emailed_at is not None

    def test_a_rollback_sends_nothing(self, freelancer, django_capture_on_commit_callbacks):
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            notifications_send(
                messages=[Message(user_id=freelancer.pk, kind="k", title="Funded")],
                now=timezone.now(),
            )
            raise RuntimeError("the change failed")

        assert callbacks == []
        assert mail.outbox == []
        assert Notification.objects.count() == 0


class TestNotificationMarkRead:
    def test_marks_only_the_users_own_notification(self, client_user, freelancer):
        (notice_id,) = notifications_send(
            messages=[Message(user_id=freelancer.pk, kind="k", title="t")], now=timezone.now()
        )
        notice = Notification.objects.get(pk=notice_id)

        notification_mark_read(notification=notice, user=client_user, now=timezone.now())
        untouched = Notification.objects.get().read_at
        notification_mark_read(notification=notice, user=freelancer, now=timezone.now())

        assert untouched is None
        assert Notification.objects.get().read_at is not None
