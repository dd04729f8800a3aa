from django.apps import AppConfig


class ArbitrationConfig(AppConfig):
    name = "arbitration"
    verbose_name = "Arbitration"

    def ready(self):
        # services registers the deadline sweeps and hooks; serializers fill `arbitration`.
        from . import serializers, services  # noqa: F401
