from django.apps import AppConfig


class ArbitrationConfig(AppConfig):
    name = "arbitration"
    verbose_name = "Arbitration"

    def ready(self):
        from . import services  # noqa: F401  (registers the deadline sweeps and hooks)
