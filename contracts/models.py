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

from core.actions import Action, Actor, Lifecycle
from core.errors import Conflict
from core.money import MAX_PLACES, money
from core.uploads import download_name

from .terms import terms_fields, terms_sha256

AMOUNT = {"max_digits": 18, "decimal_places": MAX_PLACES}


class LedgerRowImmutable(Exception):
    """Ledger rows are written once; corrections are reversing transactions."""


class ContractEnded(Conflict):
    code = "contract_ended"
    default_message = "This contract has ended; it takes no new milestones."


def _not_active() -> Conflict:
    return Conflict(
        "A support case is for funded work on an active contract; an ended contract has its "
        "refund request and dispute instead.",
        code="not_active",
    )


def _contract_active(milestone, *, code: str = "contract_ended") -> Conflict | None:
    """Refuse work on a milestone whose contract has ended."""
    if milestone.contract.status == Contract.Status.ACTIVE:
        return None
    if code == "not_active":
        return _not_active()
    return ContractEnded("This contract has ended.")


def _on_active_contract(actor) -> Q:
    """``_contract_active`` as a filter on milestones."""
    return Q(contract__status=Contract.Status.ACTIVE)


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
        return f"Entry #{self.pk}: {money(self.amount, self.account.currency)} on {self.account}"


# --- Contracts ------------------------------------------------------------------------------


class Contract(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "ACTIVE", "Active"
        ENDED = "ENDED", "Ended"

    lifecycle = Lifecycle(
        name="contract",
        statuses=Status,
        contract="",
        initial=[Status.ACTIVE],
        timeline="contracts.timeline.write",
        created="contract.created",
        actions=[
            Action(
                "add_milestone",
                sources=[Status.ACTIVE],
                target=None,
                actors=[Actor.CLIENT],
                refuse_state=lambda contract: ContractEnded(),
            ),
            Action(
                "end",
                sources=[Status.ACTIVE],
                target=Status.ENDED,
                actors=[Actor.CLIENT],
                emits="contract.ended",
            ),
        ],
    )

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

    # States in which the milestone's escrow must be empty.
    CLOSED = frozenset({Status.RELEASED, Status.REFUNDED, Status.SETTLED, Status.CANCELLED})
    # States in which the client's escrow is theirs to release, and the contract's to end.
    HOLDING = frozenset({Status.FUNDED, Status.SUBMITTED})

    # The client pays and ends; the freelancer submits; the deadline releases submitted work.
    # Money held for a refund request (HELD) moves only by that request's or its dispute's
    # outcome: the settle_* actions, which only the system takes, for the outcome's actor.
    lifecycle = Lifecycle(
        name="milestone",
        statuses=Status,
        contract="contract",
        initial=[Status.PENDING],
        timeline="contracts.timeline.write",
        actions=[
            Action(
                "fund",
                sources=[Status.PENDING],
                target=Status.FUNDED,
                actors=[Actor.CLIENT],
                guard=lambda m, **_: _contract_active(m),
                awaited=[Status.PENDING],
                awaited_if=_on_active_contract,
                emits="milestone.funded",
            ),
            Action(
                "submit",
                sources=[Status.FUNDED],
                target=Status.SUBMITTED,
                actors=[Actor.FREELANCER],
                guard=lambda m, **_: _contract_active(m),
                awaited=[Status.FUNDED],
                awaited_if=_on_active_contract,
                emits="milestone.submitted",
            ),
            Action(
                "release",
                sources=HOLDING,
                target=Status.RELEASED,
                actors=[Actor.CLIENT],
                before="auto_release",
                guard=lambda m, **_: _contract_active(m),
                # Submitted work waits for the client; funded work waits for the freelancer.
                awaited=[Status.SUBMITTED],
                awaited_if=_on_active_contract,
                label="release this payment",
                emits="milestone.released",
            ),
            Action(
                "release_part",
                sources=HOLDING,
                target=None,
                outcome=Status.RELEASED,
                actors=[Actor.CLIENT],
                before="auto_release",
                guard=lambda m, **_: _contract_active(m),
                label="release this payment",
                emits="milestone.released",
            ),
            Action(
                "open_support_case",
                sources=HOLDING,
                target=None,
                actors=[Actor.FREELANCER],
                guard=lambda m, **_: _contract_active(m, code="not_active"),
                refuse_state=lambda m: _not_active(),
            ),
            Action(
                "auto_release",
                sources=[Status.SUBMITTED],
                target=Status.RELEASED,
                actors=[Actor.SYSTEM],
                after="auto_release",
                emits="milestone.released",
            ),
            # Ending the contract: a milestone with money left is held for the refund request;
            # one never funded is cancelled.
            Action(
                "hold",
                sources=HOLDING,
                target=Status.HELD,
                actors=[Actor.CLIENT],
                before="auto_release",
                label="end the contract with this work in escrow",
            ),
            Action(
                "cancel", sources=[Status.PENDING], target=Status.CANCELLED, actors=[Actor.CLIENT]
            ),
            Action(
                "settle_release",
                sources=[Status.HELD],
                target=Status.RELEASED,
                actors=[Actor.SYSTEM],
            ),
            Action(
                "settle_refund",
                sources=[Status.HELD],
                target=Status.REFUNDED,
                actors=[Actor.SYSTEM],
            ),
            Action(
                "settle_split",
                sources=[Status.HELD],
                target=Status.SETTLED,
                actors=[Actor.SYSTEM],
            ),
        ],
    )

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

    @property
    def released_automatically(self) -> bool:
        """Whether its auto-release deadline released it: no person can release after that."""
        return (
            self.released_at is not None
            and self.auto_release_due_at is not None
            and self.released_at >= self.auto_release_due_at
        )


class MilestoneTerms(models.Model):
    """A milestone's terms as its client funded them, and their SHA-256 (``contracts.terms``).

    Written once, when the milestone is funded, and never changed: a milestone cannot be edited
    after it is created, so these are its terms for good.
    """

    milestone = models.OneToOneField(Milestone, on_delete=models.PROTECT, related_name="terms")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    amount = models.DecimalField(**AMOUNT)
    currency = models.CharField(max_length=3)
    due_date = models.DateField(null=True, blank=True)
    frozen_at = models.DateTimeField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        verbose_name_plural = "milestone terms"

    def __str__(self) -> str:
        return f"Terms of milestone #{self.milestone_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Frozen terms are written once and never changed.")
        super().save(*args, **kwargs)

    def fields(self) -> dict[str, str | None]:
        """The hashed terms, as the API shows them (``contracts.terms.terms_fields``)."""
        return terms_fields(
            title=self.title,
            description=self.description,
            amount=self.amount,
            currency=self.currency,
            due_date=self.due_date,
            frozen_at=self.frozen_at,
        )

    def as_shown(self) -> dict[str, str | None]:
        """The terms with their hash: ``{title, description, amount, currency, due_date,
        frozen_at, sha256}``."""
        return {**self.fields(), "sha256": self.sha256}

    def verifies(self) -> bool:
        """Whether the stored hash is the hash of the stored terms."""
        return terms_sha256(self.fields()) == self.sha256


class PrivateStorage(LazyObject):
    """Files that only their parties and staff may read: outside any public folder."""

    def _setup(self):
        self._wrapped = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT, base_url=None)


private_storage = PrivateStorage()


def private_files() -> PrivateStorage:
    """The storage of uploaded work and evidence, by name: migrations then refer to this
    function, never to where this machine keeps the files (PRIVATE_MEDIA_ROOT)."""
    return private_storage


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
    file = models.FileField(storage=private_files, max_length=255)
    name = models.CharField(max_length=255, help_text="The name the file was uploaded with.")
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"File #{self.pk} {self.name}"

    def get_absolute_url(self) -> str:
        return reverse("contracts:submission-file", kwargs={"pk": self.pk})

    @property
    def download_name(self) -> str:
        """The generated name the file downloads under; ``name`` is only ever shown."""
        return download_name("work", self.pk, self.content_type)


class ContractEvent(models.Model):
    """One thing that happened to a contract or one of its milestones. Written once, by the
    actions of ``Contract.lifecycle`` and ``Milestone.lifecycle`` (see ``contracts.timeline``).

    What happens to money held for a refund request is on that request's own timeline.
    """

    class Kind(models.TextChoices):
        CONTRACT_CREATED = "CONTRACT_CREATED", "Contract opened"
        MILESTONE_ADDED = "MILESTONE_ADDED", "Milestone added"
        MILESTONE_FUNDED = "MILESTONE_FUNDED", "Funded into escrow"
        WORK_SUBMITTED = "WORK_SUBMITTED", "Work submitted"
        PAYMENT_RELEASED = "PAYMENT_RELEASED", "Payment released"
        AUTO_RELEASED = "AUTO_RELEASED", "Released: the client did not act in time"
        CONTRACT_ENDED = "CONTRACT_ENDED", "Contract ended"
        MILESTONE_HELD = "MILESTONE_HELD", "Held for a refund request"
        MILESTONE_CANCELLED = "MILESTONE_CANCELLED", "Cancelled: never funded"

    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="events")
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    kind = models.CharField(max_length=40, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the system acted (a deadline passed).",
    )
    at = models.DateTimeField()
    amounts = models.JSONField(default=dict, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        indexes = [models.Index(fields=["contract", "at"], name="contract_event_idx")]

    def __str__(self) -> str:
        return f"Contract event #{self.pk} {self.kind}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValueError("Contract events are written once and never changed.")
        super().save(*args, **kwargs)
