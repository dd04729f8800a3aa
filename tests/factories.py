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
