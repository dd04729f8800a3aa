from django.urls import path

from . import api

urlpatterns = [
    path("disputes/<int:pk>/offers/", api.DisputeOffersView.as_view(), name="api-dispute-offers"),
    path("offers/<int:pk>/accept/", api.OfferAcceptView.as_view(), name="api-offer-accept"),
    path("offers/<int:pk>/decline/", api.OfferDeclineView.as_view(), name="api-offer-decline"),
    path("offers/<int:pk>/withdraw/", api.OfferWithdrawView.as_view(), name="api-offer-withdraw"),
]
