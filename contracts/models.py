"""Contracts, milestones, submitted work, and the escrow ledger that holds their money.

The ledger is double-entry and append-only:

* An ``Account`` holds money of one currency: a user's funding source (the outside world: its
  balance goes negative by what the user has paid in), a milestone's escrow, a freelancer's
  earnings, a client's refunds, or the platform's fees. Every account but a funding source is
  kept at or above zero by a check constraint.
* A ``LedgerTransaction`` is one movement of money, in one currency. Its ``Entry`` rows (two or
  more, none zero) sum to zero, so money is never created or lost.
* Transactions and entries are written once, by ``contracts.ledger``, and never updated or
  deleted: corrections are new, reversing transactions. On PostgreSQL the database enforces this
  itself (a trigger rejects UPDATE and DELETE; a deferred constraint trigger rejects, at commit, a
  transaction whose entries do not sum to zero or mix currencies); everywhere, the models refuse.
* ``Account.balance`` is a cache of the sum of the account's entries, updated in the same database
  transaction as the entries; ``manage.py check_ledger`` proves the two agree.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Q
from django.dispatch import receiver
from django.urls import reverse
from django.utils.functional import LazyObject, empty

AMOUNT = {"max_digits": 18, "decimal_places": 2}


class LedgerRowImmutable(Exception):
    """Ledger rows are written once; corrections are reversing transactions."""


# --- Ledger ---------------------------------------------------------------------------------


class Account(models.Model):
    class Kind(models.TextChoices):
        FUNDING = "FUNDING", "Funding source"
        ESCROW = "ESCROW", "Milestone escrow"
        EARNINGS = "EARNINGS", "Freelancer earnings"
        REFUNDS = "REFUNDS", "Refunds to the client"
        PLATFORM_FEES = "PLATFORM_FEES", "Platform fees"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_accounts",
    )
    currency = models.CharField(max_length=3)
    balance = models.DecimalField(**AMOUNT, default=0)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="FUNDING") | Q(balance__gte=0),
                name="account_balance_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["ESCROW", "PLATFORM_FEES"], owner__isnull=True)
                | Q(kind__in=["FUNDING", "EARNINGS", "REFUNDS"], owner__isnull=False),
                name="account_owner_matches_kind",
            ),
            models.UniqueConstraint(
                fields=["kind", "owner", "currency"],
                condition=Q(owner__isnull=False),
                name="account_one_per_owner_kind_currency",
            ),
            models.UniqueConstraint(
                fields=["currency"],
                condition=Q(kind="PLATFORM_FEES"),
                name="account_one_platform_fees_per_currency",
            ),
        ]

    def __str__(self) -> str:
        owner = f" of {self.owner}" if self.owner_id else ""
        return f"Account #{self.pk} {self.get_kind_display()}{owner} ({self.currency})"


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerRowImmutable("Ledger rows cannot be updated.")

    def delete(self):
        raise LedgerRowImmutable("Ledger rows cannot be deleted.")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerRowImmutable(f"{type(self).__name__} rows cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerRowImmutable(f"{type(self).__name__} rows cannot be deleted.")


class LedgerTransaction(ImmutableModel):
    class Kind(models.TextChoices):
        FUNDING = "FUNDING", "Milestone funded"
        RELEASE = "RELEASE", "Released to the freelancer"
        REFUND = "REFUND", "Refunded to the client"
        FEE = "FEE", "Arbitration fee paid"
        FEE_REFUND = "FEE_REFUND", "Arbitration fee refunded"
        SETTLEMENT = "SETTLEMENT", "Split between the parties"

    kind = models.CharField(max_length=16, choices=Kind.choices)
    currency = models.CharField(max_length=3)
    memo = models.CharField(max_length=255, blank=True)
    milestone = models.ForeignKey(
        "contracts.Milestone",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger_transactions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system moved the money (a deadline passed).",
    )
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Transaction #{self.pk} {self.get_kind_display()} ({self.currency})"


class Entry(ImmutableModel):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries"
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(**AMOUNT)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
        ]

    def __str__(self) -> str:
        return f"Entry #{self.pk}: {self.amount} on account #{self.account_id}"


# --- Contracts ------------------------------------------------------------------------------


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ENDED = "ENDED", "Ended"

    TRANSITIONS = {
        Status.ACTIVE: frozenset({Status.ENDED}),
        Status.ENDED: frozenset(),
    }

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_client"
    )
    freelancer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="contracts_as_freelancer"
    )
    title = models.CharField(max_length=200)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(client=models.F("freelancer")), name="contract_parties_differ"
            ),
        ]
        indexes = [
            models.Index(fields=["client", "-created_at"], name="contract_client_idx"),
            models.Index(fields=["freelancer", "-created_at"], name="contract_freelancer_idx"),
        ]

    def __str__(self) -> str:
        return f"Contract #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:detail", kwargs={"pk": self.pk})

    def role_of(self, user) -> str | None:
        """Return "client", "freelancer" or None for ``user`` on this contract."""
        if user.pk == self.client_id:
            return "client"
        if user.pk == self.freelancer_id:
            return "freelancer"
        return None


class Milestone(models.Model):
    class Status(models.TextChoices):
        PENDING = "PENDING", "Awaiting funding"
        FUNDED = "FUNDED", "Funded"
        SUBMITTED = "SUBMITTED", "Work submitted"
        RELEASED = "RELEASED", "Released"
        HELD = "HELD", "Held for a refund request"
        REFUNDED = "REFUNDED", "Refunded"
        SETTLED = "SETTLED", "Split between the parties"
        CANCELLED = "CANCELLED", "Cancelled"

    TRANSITIONS = {
        Status.PENDING: frozenset({Status.FUNDED, Status.CANCELLED}),
        Status.FUNDED: frozenset({Status.SUBMITTED, Status.RELEASED, Status.HELD}),
        Status.SUBMITTED: frozenset({Status.RELEASED, Status.HELD}),
        Status.HELD: frozenset({Status.RELEASED, Status.REFUNDED, Status.SETTLED}),
        Status.RELEASED: frozenset(),
        Status.REFUNDED: frozenset(),
        Status.SETTLED: frozenset(),
        Status.CANCELLED: frozenset(),
    }
    # States in which the milestone's escrow must be empty.
    CLOSED = frozenset({Status.RELEASED, Status.REFUNDED, Status.SETTLED, Status.CANCELLED})

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    amount = models.DecimalField(**AMOUNT)
    due_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    escrow_account = models.OneToOneField(
        Account, on_delete=models.PROTECT, related_name="escrow_of"
    )
    created_at = models.DateTimeField()
    funded_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    released_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Submitted work is released to the freelancer at this time unless the client acts first.
    auto_release_due_at = models.DateTimeField(null=True, blank=True)
    auto_release_reminded_48h_at = models.DateTimeField(null=True, blank=True)
    auto_release_reminded_24h_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="milestone_amount_positive"),
        ]
        indexes = [
            models.Index(fields=["contract", "id"], name="milestone_contract_idx"),
            models.Index(
                fields=["status", "auto_release_due_at"], name="milestone_auto_release_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone #{self.pk}: {self.title}"

    def get_absolute_url(self) -> str:
        url = reverse("contracts:detail", kwargs={"pk": self.contract_id})
        return f"{url}#milestone-{self.pk}"

    @property
    def escrow_balance(self):
        """The money held in this milestone's escrow (``escrow_account`` must be loaded)."""
        return self.escrow_account.balance

    @property
    def currency(self) -> str:
        return self.escrow_account.currency


class PrivateStorage(LazyObject):
    """Files that only their parties and staff may read: outside any public folder."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


@receiver(setting_changed)
def _reset_private_storage(*, setting, **kwargs):
    """Follow a changed PRIVATE_MEDIA_ROOT (tests change it), as Django does for its storages."""
    if setting == "PRIVATE_MEDIA_ROOT":
        private_storage._wrapped = empty


class Submission(models.Model):
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="submissions")
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    message = models.TextField()
    submitted_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["milestone", "submitted_at"], name="submission_ms_idx")]

    def __str__(self) -> str:
        return f"Submission #{self.pk} for milestone #{self.milestone_id}"


class SubmissionFile(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.PROTECT, related_name="files")
    file = models.FileField(storage=private_storage, max_length=255)
    name = models.CharField(max_length=255, help_text="The name the file was uploaded with.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"File #{self.pk} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:submission-file", kwargs={"pk": self.pk})
