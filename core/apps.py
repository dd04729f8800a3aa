from django.apps import AppConfig
from django.core.management import call_command
from django.db.models.signals import post_migrate, post_save


def create_cache_table(*, using: str, **kwargs) -> None:
    """Create the database cache's table when it is missing, so a plain ``migrate`` suffices.

    Run after every migrate (and so on every fresh clone, test database and release), it also
    covers a deployment that moves from Redis to the database cache later; with Redis it does
    nothing.
    """
    call_command("createcachetable", database=using, verbosity=0)


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.admin.models import LogEntry

        from . import lookups  # noqa: F401  (registers field__any)

        post_migrate.connect(create_cache_table, sender=self, dispatch_uid="core.cache_table")
        post_save.connect(_record_admin_change, sender=LogEntry, dispatch_uid="core.audit.admin")


def _record_admin_change(sender, instance, created, raw=False, **kwargs):
    """Every change made in the admin goes to the audit log as well."""
    if created and not raw:
        from . import audit

        audit.admin_change(instance)
