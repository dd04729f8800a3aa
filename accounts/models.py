import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class Role(models.TextChoices):
    """Staff roles, each a Django group of the same name."""

    MEDIATION_AGENT = "Mediation agents"
    ARBITRATOR = "Arbitrators"
    SUPPORT = "Support"
    # Mediation agents who also take the high-value tier (``HIGH_VALUE_LIMIT``).
    SENIOR_MEDIATION_AGENT = "Senior mediation agents"


class User(AbstractUser):
    """A person. Client and freelancer are relations to a contract, not kinds of user."""

    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)
    # Staff who are away get no new cases by automatic assignment (they keep the ones they have).
    away_since = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.username

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None


class Notification(models.Model):
    """One message in a user's inbox, and the e-mail it owes: a row of the e-mail outbox.

    The row is written in the transaction of the change it tells of; its e-mail is sent after
    that commits, by a task or else by the relay sweep (``accounts.outbox``). While the e-mail
    is owed, ``email_next_attempt_at`` says when it may next be tried; it is cleared when the
    e-mail was sent (``emailed_at``) or given up (``email_error`` says why).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=64)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    email_next_attempt_at = models.DateTimeField(null=True, blank=True)
    email_attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    email_error = models.TextField(blank=True, default="", db_default="")

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_inbox_idx"),
            models.Index(
                fields=["user"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # Only the e-mails still owed: a handful beside millions sent.
            models.Index(
                fields=["email_next_attempt_at", "id"],
                condition=models.Q(email_next_attempt_at__isnull=False),
                name="notification_email_owed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Notification #{self.pk} to {self.user_id}: {self.title}"
