from django.apps import AppConfig


class DisputesConfig(AppConfig):
    name = "disputes"
    verbose_name = "Disputes"

    def ready(self):
        from contracts import selectors as contract_selectors
        from contracts import views as contract_views

        from . import (
            deadlines,  # noqa: F401  (declares the deadlines)
            events,  # noqa: F401  (what the events about disputes carry)
        )
        from .models import SupportCase
        from .selectors import contracts_in_dispute
        from .views import milestone_next_step

        # The contract pages link to refund requests, disputes and support cases, and offer
        # "End contract", without contracts importing this app.
        contract_selectors.register_milestone_related("refund_request", "refund_request__dispute")
        contract_selectors.register_in_dispute(contracts_in_dispute)
        contract_selectors.register_milestone_detail_prefetch(
            "support_cases", SupportCase.objects.order_by("created_at", "pk")
        )
        contract_views.register_templates("contract_actions", "disputes/_contract_actions.html")
        contract_views.register_templates("milestone_panels", "disputes/_milestone_panel.html")
        contract_views.register_templates("milestone_links", "disputes/_milestone_links.html")
        contract_views.register_next_step(milestone_next_step)
