"""Create demo users and contracts in every stage; safe to run again.

It lives in the highest app, because it drives every app below it.
"""

from datetime import timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import user_role_grant
from arbitration import services as arbitration
from contracts import services as contracts
from contracts.models import Contract
from disputes import services as disputes
from mediation import services as mediation
from offers import services as offers

DEMO_USERS = [
    # username, password, staff role, is_superuser
    ("client", "client-demo-pass", None, False),
    ("freelancer", "freelancer-demo-pass", None, False),
    ("agent", "agent-demo-pass", Role.MEDIATION_AGENT, False),
    ("arbitrator", "arbitrator-demo-pass", Role.ARBITRATOR, False),
    ("support", "support-demo-pass", Role.SUPPORT, False),
    ("admin", "admin-demo-pass", None, True),
]

# title, currency, [(milestone, amount, stage)], and how the contract ends, if it does.
PLANS = [
    (
        "Company website",
        "USD",
        [
            ("Wireframes", "500.00", "released"),
            ("Visual design", "750.00", "submitted"),
            ("Front-end build", "1200.00", "funded"),
            ("Launch support", "300.00", "pending"),
        ],
        None,
    ),
    ("Mobile app prototype", "EUR", [("Clickable prototype", "1000.00", "partly released")], None),
    (
        "Brand guidelines",
        "GBP",
        [("Logo and palette", "400.00", "funded"), ("Guideline PDF", "250.00", "pending")],
        None,
    ),
    ("Product photos", "USD", [("Twenty product shots", "600.00", "overdue review")], None),
    ("Landing page copy", "USD", [("Copy for five sections", "400.00", "funded")], "refund"),
    ("Illustrations", "USD", [("Six spot illustrations", "900.00", "submitted")], "dispute"),
    ("Data migration", "EUR", [("Migration script", "1500.00", "submitted")], "declined"),
    ("SEO audit", "USD", [("Audit report", "300.00", "funded")], "refund accepted"),
    ("Newsletter templates", "USD", [("Three templates", "800.00", "submitted")], "proposed"),
    ("Pitch deck", "USD", [("Twelve slides", "600.00", "submitted")], "window"),
    ("Shop integration", "EUR", [("Payment plugin", "2000.00", "submitted")], "arbitration"),
]


class Command(BaseCommand):
    help = "Create demo users (passwords printed) and contracts in every stage."

    @transaction.atomic
    def handle(self, *args, **options):
        if settings.PRODUCTION:
            # It sets published passwords on the demo accounts, a superuser among them.
            raise CommandError("seed_demo is for local demos: it refuses to run in production.")
        users = {}
        for username, password, role, is_superuser in DEMO_USERS:
            user, _ = User.objects.get_or_create(
                username=username,
                defaults={"email": f"{username}@example.com", "time_zone": "Europe/Berlin"},
            )
            user.set_password(password)  # the printed password always works
            user.is_staff = user.is_superuser = is_superuser
            user.save()
            if role:
                # Staff are set up one way, here as with `manage.py grant_role`.
                user = user_role_grant(user=user, role=role)
            users[username] = user

        created = 0
        for plan in PLANS:
            created += self._contract(users["client"], users["freelancer"], users["agent"], *plan)

        self.stdout.write("Demo users (username / password):")
        for username, password, role, _ in DEMO_USERS:
            label = f"  ({role.value})" if role else ""
            self.stdout.write(f"  {username:<11} {password}{label}")
        total = Contract.objects.filter(client=users["client"]).count()
        self.stdout.write(f"Demo contracts: {created} created, {total} in all.")
        self.stdout.write(
            "Two-factor authentication for staff is "
            + ("required" if settings.STAFF_2FA_REQUIRED else "off until a staff user sets it up")
            + ": in the admin, open “Two-factor authentication”, scan the QR code with an "
            "authenticator app and confirm a code; from then on that user logs in with the "
            "password and the app's code."
        )

    def _contract(self, client, freelancer, agent, title, currency, milestones, ending) -> int:
        if Contract.objects.filter(client=client, freelancer=freelancer, title=title).exists():
            return 0
        now = timezone.now()
        start = now - timedelta(days=12)
        contract = contracts.contract_create(
            client=client, freelancer=freelancer, title=title, currency=currency, now=start
        )
        created = []
        for index, (name, amount, stage) in enumerate(milestones):
            milestone = contracts.milestone_create(
                contract=contract,
                actor=client,
                title=name,
                description=f"{name} for {title.lower()}, as agreed in the proposal.",
                amount=amount,
                due_date=(now + timedelta(days=14 * (index + 1))).date(),
                now=start,
            )
            created.append(milestone)
            if stage == "pending":
                continue
            contracts.milestone_fund(milestone=milestone, actor=client, now=start)
            if stage in {"submitted", "released", "overdue review"}:
                contracts.milestone_submit(
                    milestone=milestone,
                    actor=freelancer,
                    message=f"{name} is done: please review.",
                    # Submitted 12 days ago: the automatic release is 2 days away.
                    now=start if stage == "overdue review" else now - timedelta(days=1),
                )
            if stage == "released":
                contracts.milestone_release(milestone=milestone, actor=client, now=now)
            if stage == "partly released":
                contracts.milestone_release(
                    milestone=milestone, actor=client, amount="400.00", now=now
                )

        if ending is None:
            return 1
        first = created[0]
        half = str(first.amount / 4)
        (request,) = disputes.contract_end(
            contract=contract, actor=client, payments={first.pk: half}, now=now
        )
        if ending == "refund accepted":
            disputes.refund_request_accept(refund_request=request, actor=freelancer, now=now)
        if ending in {"dispute", "declined", "proposed", "window", "arbitration"}:
            dispute = disputes.dispute_start(
                refund_request=request,
                actor=freelancer,
                feedback_rating=2,
                feedback_comment="Friendly at first, then stopped answering about payment.",
                reason="NON_PAYMENT",
                description=(
                    "The milestone asked for the deliverables listed in the proposal; all of "
                    "them were delivered on time, and the client confirmed receipt in chat."
                ),
                amount=str(request.amount),
                now=now,
            )
            disputes.evidence_add(
                dispute=dispute,
                actor=freelancer,
                file=SimpleUploadedFile(
                    "delivery-log.txt",
                    b"2026-11-02 delivered all files\n2026-11-03 client: thanks!\n",
                ),
                description="Delivery log",
                now=now,
            )
            disputes.dispute_submit(dispute=dispute, actor=freelancer, now=now)
            if ending != "dispute":
                disputes.dispute_decline(
                    dispute=dispute,
                    actor=client,
                    reason="Two of the deliverables were drafts, not final files.",
                    now=now,
                )
            if ending == "declined":
                # While the agent reviews, the client offers the freelancer a settlement.
                share = (request.amount * 3 / 5).quantize(request.amount)
                offers.offer_make(
                    dispute=dispute,
                    actor=client,
                    to_freelancer=str(share),
                    to_client=str(request.amount - share),
                    message="Three fifths for the final files; let us close this.",
                    now=now,
                )
            if ending in {"proposed", "window", "arbitration"}:
                half = request.amount / 2
                mediation.resolution_propose(
                    dispute=dispute,
                    agent=agent,
                    to_freelancer=str(half),
                    to_client=str(request.amount - half),
                    rationale="Most of the work was delivered as agreed; the last part was a "
                    "draft. An even split of the amount in dispute reflects that.",
                    now=now,
                )
            if ending in {"window", "arbitration"}:
                mediation.resolution_answer(dispute=dispute, actor=client, accept=False, now=now)
            if ending == "arbitration":
                for party in (freelancer, client):
                    arbitration.arbitration_fee_pay(dispute=dispute, actor=party, now=now)
        return 1
