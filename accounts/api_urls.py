from django.urls import path

from . import api, api_notifications

urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="api-token"),
    path("me/", api.MeView.as_view(), name="api-me"),
    path(
        "notifications/",
        api_notifications.NotificationListView.as_view(),
        name="api-notifications",
    ),
    path(
        "notifications/read-all/",
        api_notifications.NotificationReadAllView.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        api_notifications.NotificationReadView.as_view(),
        name="api-notification-read",
    ),
]
