from django.urls import path

from . import api

urlpatterns = [
    path(
        "disputes/<int:pk>/resolution/",
        api.ResolutionProposeView.as_view(),
        name="api-dispute-resolution",
    ),
    path(
        "disputes/<int:pk>/resolution/accept/",
        api.ResolutionAcceptView.as_view(),
        name="api-dispute-resolution-accept",
    ),
    path(
        "disputes/<int:pk>/resolution/reject/",
        api.ResolutionRejectView.as_view(),
        name="api-dispute-resolution-reject",
    ),
    path("disputes/<int:pk>/extend/", api.DisputeExtendView.as_view(), name="api-dispute-extend"),
    path("disputes/<int:pk>/notes/", api.DisputeNoteView.as_view(), name="api-dispute-notes"),
]
