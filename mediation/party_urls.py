"""The parties' answers to a proposed resolution (the panel is on See Dispute)."""

from django.urls import path

from . import party_views

app_name = "resolution"
urlpatterns = [
    path(
        "disputes/<int:pk>/resolution/accept/",
        party_views.resolution_accept,
        name="accept",
    ),
    path(
        "disputes/<int:pk>/resolution/reject/",
        party_views.resolution_reject,
        name="reject",
    ),
]
