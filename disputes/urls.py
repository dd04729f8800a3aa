from django.urls import path

from . import views

app_name = "disputes"
urlpatterns = [
    path("contracts/<int:pk>/end/", views.contract_end, name="contract-end"),
    path("refund-requests/<int:pk>/", views.refund_request_detail, name="refund-request"),
    path("refund-requests/<int:pk>/live/", views.refund_request_live, name="refund-request-live"),
    path(
        "refund-requests/<int:pk>/accept/",
        views.refund_request_accept,
        name="refund-request-accept",
    ),
    # The guided dispute form: step 1 starts the draft, so it hangs off the refund request.
    path("refund-requests/<int:pk>/dispute/", views.dispute_feedback, name="dispute-feedback"),
    path("disputes/<int:pk>/details/", views.dispute_details, name="dispute-details"),
    path("disputes/<int:pk>/amount/", views.dispute_amount, name="dispute-amount"),
    path("disputes/<int:pk>/review/", views.dispute_review, name="dispute-review"),
    path("disputes/<int:pk>/submit/", views.dispute_submit, name="dispute-submit"),
    path("disputes/<int:pk>/", views.dispute_detail, name="dispute"),
    path("disputes/<int:pk>/live/", views.dispute_live, name="dispute-live"),
    path("disputes/<int:pk>/accept/", views.dispute_accept, name="dispute-accept"),
    path("disputes/<int:pk>/decline/", views.dispute_decline, name="dispute-decline"),
    path("disputes/<int:pk>/evidence/", views.evidence_add, name="evidence-add"),
    path("disputes/<int:pk>/dossier/", views.dispute_dossier, name="dispute-dossier"),
    path("disputes/<int:pk>/messages/", views.dispute_message_post, name="dispute-message"),
    path("evidence/<int:pk>/download/", views.evidence_download, name="evidence-download"),
    path("evidence/<int:pk>/remove/", views.evidence_remove, name="evidence-remove"),
    path("milestones/<int:pk>/support/", views.support_case_open, name="support-case-open"),
    path("support-cases/<int:pk>/", views.support_case_detail, name="support-case"),
]
