from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "Contracts and escrow"

    def ready(self):
        from accounts.services import SUSPENSION_CONFLICTS

        from . import (
            deadlines,  # noqa: F401  (declares the auto-release deadline)
            events,  # noqa: F401  (what the events about contracts carry)
        )
        from .selectors import have_a_contract

        # Nobody decides on an account they have a contract with.
        if have_a_contract not in SUSPENSION_CONFLICTS:
            SUSPENSION_CONFLICTS.append(have_a_contract)
