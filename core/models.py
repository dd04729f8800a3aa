from django.conf import settings
from django.db import models


class IdempotencyRecord(models.Model):
    """The first response to a money-moving POST sent with an ``Idempotency-Key`` header."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
        ]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created_idx")]

    def __str__(self) -> str:
        return f"Idempotency key {self.key!r} of user #{self.user_id}"


class StuckDeadline(models.Model):
    """A row whose deadline could not be applied, even on its own: the sweeps skip it.

    Written by ``core.sweeps`` when a row fails alone after its batch failed; staff see the
    open ones in the admin ("Stuck deadlines") and retry them there, which lifts the mark.
    """

    model = models.CharField(max_length=100, help_text="The row's model: app_label.modelname.")
    kind = models.CharField(max_length=64, help_text="The deadline kind that failed.")
    object_id = models.BigIntegerField()
    error = models.TextField()
    failures = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["model", "kind", "object_id"],
                condition=models.Q(resolved_at__isnull=True),
                name="stuck_deadline_open_once",
            ),
        ]
        indexes = [
            models.Index(
                fields=["model", "kind"],
                condition=models.Q(resolved_at__isnull=True),
                name="stuck_deadline_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"Stuck {self.kind} of {self.model} #{self.object_id}"


class AuditEntryIsFinal(Exception):
    """An audit entry is written once and never changed or removed."""


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEntryIsFinal("Audit entries cannot be updated.")

    def delete(self):
        raise AuditEntryIsFinal("Audit entries cannot be deleted.")

    def _raw_delete(self, using):
        raise AuditEntryIsFinal("Audit entries cannot be deleted.")


class AuditEntry(models.Model):
    """One thing a staff member did or read: who, what, when, and from where.

    Append-only: written by ``core.audit`` and never updated or deleted — by the model and its
    queryset here, and on PostgreSQL by the database itself (migration 0004). The person is
    protected: an account with audit entries is deactivated, never deleted.
    """

    class Kind(models.TextChoices):
        ACTION = "ACTION", "Action"
        READ = "READ", "Read"
        ADMIN_CHANGE = "ADMIN_CHANGE", "Admin change"

    at = models.DateTimeField("when")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(
        max_length=100,
        help_text='The action ("dispute.propose"), what was read ("case", "evidence", '
        '"internal_notes"), or the admin change ("addition", "change", "deletion").',
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    object_id = models.CharField(max_length=64, blank=True)
    description = models.CharField(max_length=255, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    path = models.CharField(max_length=255, blank=True, help_text="The request's path.")

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        base_manager_name = "objects"
        indexes = [
            models.Index(fields=["at"], name="audit_at_idx"),
            models.Index(fields=["user", "at"], name="audit_user_at_idx"),
            models.Index(fields=["content_type", "object_id"], name="audit_object_idx"),
        ]

    def __str__(self) -> str:
        return f"Audit entry #{self.pk}: {self.user_id} {self.name}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEntryIsFinal("Audit entries cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEntryIsFinal("Audit entries cannot be deleted.")


class SweepRun(models.Model):
    """When each periodic sweep last finished: ``GET /healthz`` reads the deadline sweep's.

    One row per sweep (``deadlines``, ``emails``), written by the task that ran it.
    """

    name = models.CharField(max_length=64, unique=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField()
    handled = models.PositiveIntegerField(default=0, help_text="Rows the run handled.")
    failures = models.PositiveIntegerField(
        default=0, help_text="Parts of the run that failed (logged), e.g. one deadline's sweep."
    )

    def __str__(self) -> str:
        return f"Sweep {self.name} finished at {self.finished_at:%Y-%m-%d %H:%M:%S} UTC"
