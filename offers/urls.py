"""The parties' settlement offers in the browser (the panel is on See Dispute)."""

from django.urls import path

from . import party_views

app_name = "offers"
urlpatterns = [
    path("disputes/<int:pk>/offers/", party_views.offer_make, name="make"),
    path("offers/<int:pk>/accept/", party_views.offer_accept, name="accept"),
    path("offers/<int:pk>/decline/", party_views.offer_decline, name="decline"),
    path("offers/<int:pk>/withdraw/", party_views.offer_withdraw, name="withdraw"),
]
