from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.health import healthz

admin.site.site_header = "Milestone disputes — staff"
admin.site.site_title = "Milestone disputes staff"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="contracts:history", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("healthz", healthz, name="healthz"),
    path("staff/", include("mediation.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI with its start-up script served as a script of its own (/api/docs/?script=):
    # the Content-Security-Policy runs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("", include("accounts.urls")),
    path("", include("webhooks.urls")),
    path("", include("contracts.urls")),
    path("", include("disputes.urls")),
    path("", include("offers.urls")),
    path("", include("mediation.party_urls")),
    path("", include("arbitration.party_urls")),
]

# Unknown URLs under /api/ answer in the API's one error shape; the rest get the 404 page.
handler404 = "core.api.not_found"
