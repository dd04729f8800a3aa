from django.urls import path

from . import views

app_name = "contracts"
urlpatterns = [
    path("contracts/", views.contract_history, name="history"),
    path("contracts/new/", views.contract_new, name="new"),
    path("contracts/<int:pk>/", views.contract_detail, name="detail"),
    path("contracts/<int:pk>/milestones/new/", views.milestone_new, name="milestone-new"),
    path("milestones/<int:pk>/fund/", views.milestone_fund, name="milestone-fund"),
    path("milestones/<int:pk>/submit/", views.milestone_submit, name="milestone-submit"),
    path("milestones/<int:pk>/release/", views.milestone_release, name="milestone-release"),
    path("files/submissions/<int:pk>/", views.submission_file, name="submission-file"),
]
