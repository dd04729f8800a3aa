"""Create demo users and contracts in several stages; safe to run again."""

from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from contracts import services
from contracts.models import Contract

DEMO_USERS = [
    # username, password, role group, is_staff, is_superuser
    ("client", "client-demo-pass", None, False, False),
    ("freelancer", "freelancer-demo-pass", None, False, False),
    ("agent", "agent-demo-pass", Role.MEDIATION_AGENT, True, False),
    ("arbitrator", "arbitrator-demo-pass", Role.ARBITRATOR, True, False),
    ("admin", "admin-demo-pass", None, True, True),
]


class Command(BaseCommand):
    help = "Create demo users (passwords printed) and contracts in several stages."

    @transaction.atomic
    def handle(self, *args, **options):
        users = {}
        for username, password, role, is_staff, is_superuser in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "time_zone": "Europe/Berlin"},
            )
            user.set_password(password)  # the printed password always works
            user.is_staff = is_staff
            user.is_superuser = is_superuser
            user.save()
            if role:
                user.groups.add(Group.objects.get(name=role.value))
            users[username] = user

        created = self._contracts(client=users["client"], freelancer=users["freelancer"])

        self.stdout.write("Demo users (username / password):")
        for username, password, role, _, _ in DEMO_USERS:
            label = f"  ({role.value})" if role else ""
            self.stdout.write(f"  {username:<11} {password}{label}")
        self.stdout.write(
            f"Demo contracts: {created} created, "
            f"{Contract.objects.filter(client=users['client']).count()} in all."
        )

    def _contracts(self, *, client: User, freelancer: User) -> int:
        now = timezone.now()
        plans = [
            (
                "Company website",
                "USD",
                [
                    ("Wireframes", "500.00", "released"),
                    ("Visual design", "750.00", "submitted"),
                    ("Front-end build", "1200.00", "funded"),
                    ("Launch support", "300.00", "pending"),
                ],
            ),
            (
                "Mobile app prototype",
                "EUR",
                [("Clickable prototype", "1000.00", "partly released")],
            ),
            (
                "Brand guidelines",
                "GBP",
                [("Logo and palette", "400.00", "funded"), ("Guideline PDF", "250.00", "pending")],
            ),
        ]
        created = 0
        for title, currency, milestones in plans:
            if Contract.objects.filter(client=client, freelancer=freelancer, title=title).exists():
                continue
            contract = services.contract_create(
                client=client, freelancer=freelancer, title=title, currency=currency, now=now
            )
            created += 1
            for index, (name, amount, stage) in enumerate(milestones):
                milestone = services.milestone_create(
                    contract=contract,
                    actor=client,
                    title=name,
                    description=f"{name} for {title.lower()}, as agreed in the proposal.",
                    amount=amount,
                    due_date=(now + timedelta(days=14 * (index + 1))).date(),
                    now=now,
                )
                if stage == "pending":
                    continue
                services.milestone_fund(milestone=milestone, actor=client, now=now)
                if stage in {"submitted", "released"}:
                    services.milestone_submit(
                        milestone=milestone,
                        actor=freelancer,
                        message=f"{name} is done: please review.",
                        now=now,
                    )
                if stage == "released":
                    services.milestone_release(milestone=milestone, actor=client, now=now)
                if stage == "partly released":
                    services.milestone_release(
                        milestone=milestone, actor=client, amount="400.00", now=now
                    )
        return created
