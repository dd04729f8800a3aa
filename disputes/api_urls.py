from django.urls import path

from . import api

urlpatterns = [
    path("contracts/<int:pk>/end/", api.ContractEndView.as_view(), name="api-contract-end"),
    path("refund-requests/", api.RefundRequestListView.as_view(), name="api-refund-requests"),
    path(
        "refund-requests/<int:pk>/",
        api.RefundRequestDetailView.as_view(),
        name="api-refund-request",
    ),
    path(
        "refund-requests/<int:pk>/accept/",
        api.RefundRequestAcceptView.as_view(),
        name="api-refund-request-accept",
    ),
    path(
        "refund-requests/<int:pk>/dispute/",
        api.RefundRequestDisputeView.as_view(),
        name="api-refund-request-dispute",
    ),
    path("disputes/", api.DisputeListView.as_view(), name="api-disputes"),
    path("disputes/<int:pk>/", api.DisputeDetailView.as_view(), name="api-dispute"),
    path(
        "disputes/<int:pk>/evidence/",
        api.DisputeEvidenceView.as_view(),
        name="api-dispute-evidence",
    ),
    path("disputes/<int:pk>/submit/", api.DisputeSubmitView.as_view(), name="api-dispute-submit"),
    path("disputes/<int:pk>/accept/", api.DisputeAcceptView.as_view(), name="api-dispute-accept"),
    path(
        "disputes/<int:pk>/decline/", api.DisputeDeclineView.as_view(), name="api-dispute-decline"
    ),
    path(
        "disputes/<int:pk>/timeline/",
        api.DisputeTimelineView.as_view(),
        name="api-dispute-timeline",
    ),
    path(
        "disputes/<int:pk>/messages/",
        api.DisputeMessagesView.as_view(),
        name="api-dispute-messages",
    ),
    path(
        "disputes/<int:pk>/dossier/", api.DisputeDossierView.as_view(), name="api-dispute-dossier"
    ),
    path(
        "evidence/<int:pk>/download/",
        api.EvidenceDownloadView.as_view(),
        name="api-evidence-download",
    ),
    path("support-cases/", api.SupportCaseListCreateView.as_view(), name="api-support-cases"),
    path("support-cases/<int:pk>/", api.SupportCaseDetailView.as_view(), name="api-support-case"),
]
