"""Events for integrators, and the signed webhooks that carry them.

* An ``Event`` is one thing that happened to an object, for one user who can see the object
  (``webhooks.events`` writes one row per recipient, so each carries the object as *that* user's
  GET returns it: a client never reads the blind feedback a freelancer does). It is written in the
  same transaction as the change (an outbox): a committed change always has its events, a
  rolled-back one never. The user's events, in id order, are their stream (``/events/``).
* A ``WebhookEndpoint`` is a URL a user registered, with the event types it wants and the secret
  its deliveries are signed with (Standard Webhooks).
* A ``Delivery`` is one event owed to one endpoint: written with the event (or by a redelivery),
  sent after commit, retried on the schedule until it succeeds or gives up. Each try is a
  ``DeliveryAttempt``: the log an owner reads.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from core.actions import Action, Actor, Lifecycle

from .catalog import CHOICES


class Event(models.Model):
    # No database constraint: a deadline sweep writes two events per row it changes, and the
    # per-row check of a foreign key at commit would cost more than all the rest of them. The
    # ids are the subject's parties, read in the same transaction; a party cannot be deleted
    # (their contracts protect them), and deleting a user still deletes their events here.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # event_stream_idx leads with it
        db_constraint=False,
        help_text="Who receives it: a user who can see the object.",
    )
    type = models.CharField(max_length=64, choices=CHOICES)
    created_at = models.DateTimeField()
    subject_model = models.CharField(
        max_length=64, help_text="The model the event is about: app_label.modelname."
    )
    subject_id = models.BigIntegerField()
    # The object as its GET returns it to ``user``. Built in the change's transaction, except for
    # a deadline sweep's batches, which leave it to the relay (null until then): see
    # ``webhooks.events``.
    data = models.JSONField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "id"], name="event_stream_idx"),
            models.Index(
                fields=["id"], condition=Q(data__isnull=True), name="event_data_pending_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Event #{self.pk} {self.type}"


class WebhookEndpoint(models.Model):
    class Status(models.TextChoices):
        ENABLED = "ENABLED", "Enabled"
        DISABLED = "DISABLED", "Disabled"

    # The owner turns it off and on; the system turns off one that kept failing (its owner is
    # told).
    lifecycle = Lifecycle(
        name="webhook endpoint",
        statuses=Status,
        owner="owner_id",
        initial=[Status.ENABLED],
        actions=[
            Action(
                "disable", sources=[Status.ENABLED], target=Status.DISABLED, actors=[Actor.OWNER]
            ),
            Action(
                "enable", sources=[Status.DISABLED], target=Status.ENABLED, actors=[Actor.OWNER]
            ),
            Action(
                "disable_failing",
                sources=[Status.ENABLED],
                target=Status.DISABLED,
                actors=[Actor.SYSTEM],
            ),
        ],
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        db_index=False,  # endpoint_owner_idx leads with it
    )
    url = models.CharField(max_length=2000)
    events = models.JSONField(default=list, help_text='Type patterns: ["*"], ["dispute.*", …].')
    description = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ENABLED)
    # "whsec_" and the base64 of the key. During a rotation the previous secret signs beside the
    # new one until ``previous_secret_expires_at``. Never shown after creation or rotation.
    secret = models.CharField(max_length=100)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    # The first failed attempt since the last success; five days of failures disable it.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "status"], name="endpoint_owner_idx")]

    def __str__(self) -> str:
        return f"Webhook endpoint #{self.pk} {self.url}"

    def get_absolute_url(self) -> str:
        return reverse("webhooks:page") + f"#endpoint-{self.pk}"


class Delivery(models.Model):
    """One event owed to one endpoint: a row of the outbox (``core.outbox``, kind
    ``webhooks.relay.WEBHOOKS``). Owed while ``next_attempt_at`` is set."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        related_name="deliveries",
        db_index=False,  # delivery_endpoint_idx leads with it
    )
    created_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    # When it is due next; pushed ahead while a worker sends it (a lease), null once done.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(
        max_length=2000,
        blank=True,
        help_text="Why the last attempt failed, or why the delivery was given up.",
    )

    class Meta:
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(next_attempt_at__isnull=False),
                name="delivery_due_idx",
            ),
            models.Index(fields=["endpoint", "id"], name="delivery_endpoint_idx"),
        ]

    def __str__(self) -> str:
        return f"Delivery #{self.pk} of event #{self.event_id} to endpoint #{self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One try at a delivery: what the endpoint answered, and what happens next."""

    # Both indexed by the indexes below, which lead with them.
    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="tries", db_index=False
    )
    # The delivery's endpoint again, so an endpoint's log is one index range however long it is.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    attempt = models.PositiveIntegerField(help_text="1 for the first try, 2 for the first retry…")
    at = models.DateTimeField()
    status_code = models.PositiveIntegerField(
        null=True, blank=True, help_text="The HTTP status answered; empty when none was."
    )
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField()
    next_attempt_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it is tried again; empty once it succeeded or gave up.",
    )

    class Meta:
        indexes = [
            models.Index(fields=["endpoint", "id"], name="attempt_endpoint_idx"),
            models.Index(fields=["delivery", "attempt"], name="attempt_delivery_idx"),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.attempt} of delivery #{self.delivery_id}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
