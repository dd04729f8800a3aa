from django.apps import AppConfig


class OffersConfig(AppConfig):
    name = "offers"
    verbose_name = "Settlement offers"

    def ready(self):
        # deadlines declares the offers' deadline; events, what the events about offers carry.
        from . import deadlines, events  # noqa: F401

        self._register_party_pages()

    def _register_party_pages(self):
        """Show the offers on See Dispute, without disputes importing this app."""
        from disputes import views as dispute_views

        from . import party_views

        # Below the current stage's own panel (a resolution, the fee window), above the filing.
        dispute_views.register_dispute_panel(party_views.offers_panel, stage=5)
