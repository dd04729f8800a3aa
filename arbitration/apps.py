from django.apps import AppConfig


class ArbitrationConfig(AppConfig):
    name = "arbitration"
    verbose_name = "Arbitration"

    def ready(self):
        # deadlines declares the arbitration deadlines (and, through services, the hooks of
        # evidence and extensions); serializers fill the dispute's `arbitration`.
        from . import deadlines, serializers  # noqa: F401

        self._register_party_pages()

    def _register_party_pages(self):
        """Show the fee window, the case and the award on See Dispute, and the parties' hints on
        the contract pages, without disputes importing this app."""
        from contracts import selectors as contract_selectors
        from disputes import views as dispute_views
        from disputes.models import Dispute

        from . import party_views

        contract_selectors.register_milestone_prefetch(
            "refund_request__dispute__arbitration_fees",
            "refund_request__dispute__arbitration_case__evidence_requests",
        )
        dispute_views.register_dispute_panel(party_views.arbitration_panel, stage=20)
        dispute_views.register_stage_next_step(
            Dispute.Status.ARBITRATION_WINDOW, party_views.window_next_step
        )
        dispute_views.register_stage_next_step(
            Dispute.Status.IN_ARBITRATION, party_views.case_next_step
        )
