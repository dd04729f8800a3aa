"""The parties' arbitration actions: paying the fee, sending requested evidence (See Dispute)."""

from django.urls import path

from . import party_views

app_name = "arbitration"
urlpatterns = [
    path("disputes/<int:pk>/arbitration/pay/", party_views.fee_pay, name="fee-pay"),
    path(
        "disputes/<int:pk>/arbitration/evidence/",
        party_views.evidence_upload,
        name="evidence-upload",
    ),
]
