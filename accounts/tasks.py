from celery import shared_task
from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.message import EmailMessage
from django.db import transaction
from django.utils import timezone

from .models import Notification


@shared_task(name="accounts.tasks.deliver_notification_emails", ignore_result=True)
def deliver_notification_emails(*, notification_ids: list[int]) -> int:
    """E-mail each notification not e-mailed yet; return how many were sent."""
    with transaction.atomic():
        pending = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk__in=notification_ids, emailed_at__isnull=True)
            .exclude(user__email="")
            .select_related("user")
            .order_by("pk")
        )
        if not pending:
            return 0
        messages = [
            EmailMessage(
                subject=n.title,
                body=f"{n.body}\n\n{settings.SITE_URL}{n.url}".strip(),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[n.user.email],
            )
            for n in pending
        ]
        get_connection().send_messages(messages)
        Notification.objects.filter(pk__in=[n.pk for n in pending]).update(
            emailed_at=timezone.now()
        )
    return len(pending)
