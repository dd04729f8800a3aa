from django.urls import path

from . import api

urlpatterns = [
    path("balances/", api.BalanceListView.as_view(), name="api-balances"),
    path("contracts/", api.ContractListCreateView.as_view(), name="api-contracts"),
    path("contracts/<int:pk>/", api.ContractDetailView.as_view(), name="api-contract"),
    path(
        "contracts/<int:pk>/milestones/",
        api.ContractMilestoneCreateView.as_view(),
        name="api-contract-milestones",
    ),
    path("milestones/<int:pk>/", api.MilestoneDetailView.as_view(), name="api-milestone"),
    path("milestones/<int:pk>/fund/", api.MilestoneFundView.as_view(), name="api-milestone-fund"),
    path(
        "milestones/<int:pk>/submit/",
        api.MilestoneSubmitView.as_view(),
        name="api-milestone-submit",
    ),
    path(
        "milestones/<int:pk>/release/",
        api.MilestoneReleaseView.as_view(),
        name="api-milestone-release",
    ),
]
