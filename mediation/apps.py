from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Mediation"

    def ready(self):
        from . import services  # noqa: F401  (registers the deadline sweeps)
