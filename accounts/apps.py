from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from . import outbox  # noqa: F401  (registers the e-mail outbox)
        from .roles import grant_role_permissions

        post_migrate.connect(grant_role_permissions, dispatch_uid="accounts.grant_roles")
