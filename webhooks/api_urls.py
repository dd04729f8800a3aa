from django.urls import path

from . import api

urlpatterns = [
    path("events/", api.EventListView.as_view(), name="api-events"),
    path(
        "events/<int:pk>/redeliver/", api.EventRedeliverView.as_view(), name="api-event-redeliver"
    ),
    path("webhook-endpoints/", api.WebhookEndpointListView.as_view(), name="api-webhook-endpoints"),
    path(
        "webhook-endpoints/<int:pk>/",
        api.WebhookEndpointDetailView.as_view(),
        name="api-webhook-endpoint",
    ),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret/",
        api.WebhookEndpointRotateSecretView.as_view(),
        name="api-webhook-endpoint-rotate-secret",
    ),
    path(
        "webhook-endpoints/<int:pk>/deliveries/",
        api.WebhookEndpointDeliveryListView.as_view(),
        name="api-webhook-endpoint-deliveries",
    ),
]
