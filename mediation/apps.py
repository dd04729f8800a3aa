from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Mediation"

    def ready(self):
        # services registers the deadline sweeps; serializers fill the dispute's `resolution`.
        from . import serializers, services  # noqa: F401
