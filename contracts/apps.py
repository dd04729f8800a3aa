from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts and escrow"

    def ready(self):
        from . import deadlines  # noqa: F401  (declares the auto-release deadline)
