from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_migrate, post_save, pre_delete


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self):
        from django.contrib.auth.models import Group

        from . import (
            cached,
            outbox,  # noqa: F401  (registers the e-mail outbox)
        )
        from .models import User
        from .roles import grant_role_permissions

        post_migrate.connect(grant_role_permissions, dispatch_uid="accounts.grant_roles")
        m2m_changed.connect(
            cached.memberships_changed,
            sender=User.groups.through,
            dispatch_uid="accounts.cached.memberships",
        )
        post_save.connect(cached.group_saved, sender=Group, dispatch_uid="accounts.cached.group")
        pre_delete.connect(
            cached.group_deleted, sender=Group, dispatch_uid="accounts.cached.group_deleted"
        )
