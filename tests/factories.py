"""Factories that build state through the services, as a user would."""

from decimal import Decimal

import factory
from django.utils import timezone

from accounts.models import User
from contracts import services
from contracts.models import Contract, Milestone

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ContractFactory(factory.Factory):
    class Meta:
        model = Contract

    client = factory.SubFactory(UserFactory)
    freelancer = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"Website redesign {n}")
    currency = "USD"

    @classmethod
    def _create(cls, model_class, *, client, freelancer, title, currency):
        return services.contract_create(
            client=client, freelancer=freelancer, title=title, currency=currency, now=timezone.now()
        )


def make_milestone(
    contract: Contract,
    *,
    amount: str | Decimal = "500.00",
    funded: bool = False,
    submitted: bool = False,
    title: str = "Milestone",
) -> Milestone:
    """Create a milestone through the services, optionally funded and submitted."""
    now = timezone.now()
    milestone = services.milestone_create(
        contract=contract, actor=contract.client, title=title, amount=str(amount), now=now
    )
    if funded or submitted:
        services.milestone_fund(milestone=milestone, actor=contract.client, now=now)
    if submitted:
        services.milestone_submit(
            milestone=milestone, actor=contract.freelancer, message="Here is the work.", now=now
        )
    milestone.refresh_from_db()
    milestone.escrow_account.refresh_from_db()
    return milestone


def end_contract(contract: Contract, *, paid: str = "200.00", amount: str = "500.00", now=None):
    """Fund a milestone of ``amount``, then end the contract paying ``paid``: the refund request."""
    from disputes import services as dispute_services

    now = now or timezone.now()
    milestone = make_milestone(contract, amount=amount, funded=True)
    (request,) = dispute_services.contract_end(
        contract=contract, actor=contract.client, payments={milestone.pk: paid}, now=now
    )
    return request


def draft_dispute(request, *, amount: str = "250.00", now=None):
    """Start a complete dispute of ``amount`` on ``request`` as its freelancer, not submitted."""
    from disputes import services as dispute_services

    return dispute_services.dispute_start(
        refund_request=request,
        actor=request.contract.freelancer,
        feedback_rating=2,
        feedback_comment="Stopped answering after the second delivery.",
        reason="NON_PAYMENT",
        description="The milestone asked for five pages; all five were delivered on time.",
        amount=amount,
        now=now or timezone.now(),
    )


def file_dispute(request, *, amount: str = "250.00", now=None, evidence=()):
    """File and submit a complete dispute on ``request`` as its freelancer."""
    from disputes import services as dispute_services

    now = now or timezone.now()
    freelancer = request.contract.freelancer
    dispute = draft_dispute(request, amount=amount, now=now)
    for upload in evidence:
        dispute_services.evidence_add(dispute=dispute, actor=freelancer, file=upload, now=now)
    return dispute_services.dispute_submit(dispute=dispute, actor=freelancer, now=now)


def staff_member(role, username: str | None = None) -> User:
    """A staff user in the role's group ("Mediation agents", "Arbitrators", "Support")."""
    from django.contrib.auth.models import Group

    user = UserFactory(username=username or f"{role.name.lower()}-{User.objects.count()}")
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get_or_create(name=role.value)[0])
    return user


def declined_dispute(contract: Contract, *, amount: str = "250.00", now=None):
    """A dispute on 300 of 500 (200 paid on ending) that the client declined: in mediation."""
    from disputes import services as dispute_services

    now = now or timezone.now()
    dispute = file_dispute(end_contract(contract, now=now), amount=amount, now=now)
    return dispute_services.dispute_decline(
        dispute=dispute, actor=contract.client, reason="The work was incomplete.", now=now
    )
