"""Give a user a staff role (or take it away): ``manage.py grant_role alice agent``."""

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User
from core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Make a user a mediation agent, an arbitrator or support staff: membership of the "
        "role's group, and access to the admin site. --revoke takes the role away."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", help="agent, senior, arbitrator or support")
        parser.add_argument("--revoke", action="store_true", help="take the role away")

    def handle(self, *args, username, role, revoke, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user is called {username!r}.") from None
        try:
            chosen = services.role_named(role)
        except DomainError as error:
            raise CommandError(error.message) from None
        if revoke:
            services.user_role_revoke(user=user, role=chosen)
            self.stdout.write(f"{username} is no longer in {chosen.value}.")
        else:
            services.user_role_grant(user=user, role=chosen)
            self.stdout.write(f"{username} is in {chosen.value} and can use the admin site.")
