from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        from . import services  # noqa: F401  (registers the deadline sweeps)
