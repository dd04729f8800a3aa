"""Every endpoint of /api/v1/, gathered from the apps that own them."""

from django.urls import include, path

urlpatterns = [
    path("", include("accounts.api_urls")),
    path("", include("contracts.api_urls")),
    path("", include("disputes.api_urls")),
    path("", include("offers.api_urls")),
    path("", include("mediation.api_urls")),
    path("", include("arbitration.api_urls")),
    path("", include("webhooks.api_urls")),
]
