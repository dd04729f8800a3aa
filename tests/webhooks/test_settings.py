"""Webhook targets: private ones and plain http allowed locally, refused in production."""

import pytest
from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from tests.config.test_settings import PRODUCTION, manage
from webhooks import catalog


def setting(name: str, env: dict[str, str]) -> str:
    result = manage(
        "shell", "-c", f"from django.conf import settings; print(settings.{name})", env=env
    )
    return result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "name,production,local",
    [("WEBHOOK_ALLOW_PRIVATE_TARGETS", "False", "True"), ("WEBHOOK_HTTPS_ONLY", "True", "False")],
)
def test_targets_are_strict_in_production_and_open_locally(name, production, local):
    assert setting(name, PRODUCTION) == production
    assert setting(name, {"DJANGO_ENV": ""}) == local


def test_tests_run_with_the_local_defaults():
    assert settings.WEBHOOK_ALLOW_PRIVATE_TARGETS is True
    assert settings.WEBHOOK_HTTPS_ONLY is False


def test_the_relay_pass_is_on_beat_on_the_webhooks_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["relay-webhooks"]

    assert entry["task"] == "webhooks.tasks.relay"
    assert entry["options"]["queue"] == "webhooks"


def test_the_schema_documents_the_endpoints_and_every_event_type():
    schema = SchemaGenerator().get_schema(request=None, public=True)

    for path in [
        "/api/v1/events/",
        "/api/v1/events/{id}/redeliver/",
        "/api/v1/webhook-endpoints/",
        "/api/v1/webhook-endpoints/{id}/",
        "/api/v1/webhook-endpoints/{id}/rotate-secret/",
        "/api/v1/webhook-endpoints/{id}/deliveries/",
    ]:
        assert path in schema["paths"], path
    assert schema["components"]["schemas"]["EventTypeEnum"]["enum"] == list(catalog.TYPES)
    statuses = schema["components"]["schemas"]["WebhookEndpointStatusEnum"]["enum"]
    assert statuses == ["ENABLED", "DISABLED"]
