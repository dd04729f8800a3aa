from django.urls import path

from . import api

urlpatterns = [
    path(
        "disputes/<int:pk>/arbitration/pay-fee/",
        api.ArbitrationFeePayView.as_view(),
        name="api-dispute-arbitration-pay-fee",
    ),
    path(
        "disputes/<int:pk>/evidence-requests/",
        api.EvidenceRequestListCreateView.as_view(),
        name="api-dispute-evidence-requests",
    ),
    path("disputes/<int:pk>/award/", api.AwardIssueView.as_view(), name="api-dispute-award"),
]
