from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Events and webhooks"

    def ready(self):
        from . import relay  # noqa: F401  (registers the deliveries' outbox kind)
