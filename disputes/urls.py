from django.urls import path

from . import views

app_name = "disputes"
urlpatterns = [
    path("refund-requests/<int:pk>/", views.refund_request_detail, name="refund-request"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
    path("support-cases/<int:pk>/", views.support_case_detail, name="support-case"),
]
