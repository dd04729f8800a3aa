from django.apps import AppConfig


class MediationConfig(AppConfig):
    name = "mediation"
    verbose_name = "Mediation"

    def ready(self):
        # deadlines declares the mediation deadlines; serializers fill the dispute's
        # `resolution`.
        from . import deadlines, serializers  # noqa: F401

        self._register_party_pages()

    def _register_party_pages(self):
        """Show the proposed resolution on See Dispute, and the hint to answer it on the
        contract pages, without disputes importing this app."""
        from contracts import selectors as contract_selectors
        from disputes import views as dispute_views
        from disputes.models import Dispute

        from . import party_views

        contract_selectors.register_milestone_prefetch("refund_request__dispute__resolutions")
        dispute_views.register_dispute_panel(party_views.resolution_panel, stage=10)
        dispute_views.register_stage_next_step(
            Dispute.Status.RESOLUTION_PROPOSED, party_views.next_step
        )
