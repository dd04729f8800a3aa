from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts and escrow"

    def ready(self):
        from . import services  # noqa: F401  (registers the deadline sweeps)
