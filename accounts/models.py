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


class User(AbstractUser):
    """A person. Client and freelancer are relations to a contract, not kinds of user."""

    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.username

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None
