from django.apps import AppConfig
from django.db.models.signals import post_save


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self):
        from django.contrib.admin.models import LogEntry

        from . import lookups  # noqa: F401  (registers field__any)

        post_save.connect(_record_admin_change, sender=LogEntry, dispatch_uid="core.audit.admin")


def _record_admin_change(sender, instance, created, raw=False, **kwargs):
    """Every change made in the admin goes to the audit log as well."""
    if created and not raw:
        from . import audit

        audit.admin_change(instance)
