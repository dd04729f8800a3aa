"""The REST API of events and webhook endpoints (``/api/v1/events/``, ``/webhook-endpoints/``).

Thin edges, as elsewhere: each view reads only the user's own rows through a selector (anyone
else's is a 404), checks the request's shape with a serializer, makes one service call with
``now`` read here, and answers with the row read back.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from core.api import JSONView, errors
from core.errors import InvalidInput

from . import catalog, events, selectors, services
from .serializers import (
    DeliveryAttemptSerializer,
    EventSerializer,
    RedeliverySerializer,
    WebhookEndpointCreateSerializer,
    WebhookEndpointSerializer,
    WebhookEndpointUpdateSerializer,
    WebhookEndpointWithSecretSerializer,
)

EVENTS = ["events"]
ENDPOINTS = ["webhook endpoints"]


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class EventListView(GenericAPIView):
    @extend_schema(
        operation_id="events_list",
        summary="The user's own event stream, oldest first",
        description=(
            "The same events the user's webhooks carry, for polling and catching up: remember "
            "the last `id` you handled and ask for `?after=` it. Each event is written in the "
            "same transaction as its change, and a user's events become visible in id order, "
            "so polling with `after` never skips one. A user receives the events of the "
            "objects they can see: the contracts they are a party to, their milestones, refund "
            "requests and disputes (a draft dispute is the freelancer's own until submitted)."
        ),
        tags=EVENTS,
        parameters=[
            OpenApiParameter(
                "after",
                OpenApiTypes.INT,
                description="Only events with a greater id (the last one you handled).",
            ),
            OpenApiParameter(
                "type",
                OpenApiTypes.STR,
                description="Only these types: comma-separated; each a type, a namespace and "
                '".*" (dispute.*), or "*". ' + catalog.PATTERN_HELP,
            ),
        ],
        responses={200: EventSerializer(many=True), **errors(400)},
    )
    def get(self, request):
        after = request.query_params.get("after")
        if after not in (None, ""):
            if not after.isdigit():
                message = "after is an event id: a whole number."
                raise InvalidInput(message, code="invalid_after", fields={"after": [message]})
            after = int(after)
        else:
            after = None
        patterns = None
        if request.query_params.get("type"):
            patterns = services.clean_patterns(
                [p for p in request.query_params["type"].split(",") if p.strip()], field="type"
            )
        page = self.paginate_queryset(
            selectors.events_for_user(user=request.user, after=after, patterns=patterns)
        )
        events.fill(page)
        return self.get_paginated_response(EventSerializer(page, many=True).data)


class EventRedeliverView(JSONView):
    @extend_schema(
        operation_id="events_redeliver",
        summary="Send one of the user's events again to their matching webhook endpoints",
        description=(
            "Each ENABLED endpoint of the user whose patterns match the event's type gets a new "
            "delivery, sent at once and retried on the usual schedule, with the same "
            "`webhook-id`. 409 `no_endpoint` when none matches."
        ),
        tags=EVENTS,
        request=None,
        responses={
            202: OpenApiResponse(RedeliverySerializer, description="Queued for sending."),
            **errors(403, 404, 409),
        },
    )
    def post(self, request, pk: int):
        event = selectors.event_get_for_user(user=request.user, pk=pk)
        endpoints = services.event_redeliver(event=event, actor=request.user, now=timezone.now())
        return Response(
            RedeliverySerializer({"event": event.pk, "endpoints": endpoints}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class WebhookEndpointListView(GenericAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="webhook_endpoints_list",
        summary="The user's webhook endpoints",
        tags=ENDPOINTS,
        responses={200: WebhookEndpointSerializer(many=True), **errors()},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.endpoints_for_user(user=request.user))
        return self.get_paginated_response(WebhookEndpointSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhook_endpoints_create",
        summary="Register a webhook endpoint; the answer shows its signing secret, once",
        description=(
            "Deliveries are signed as the Standard Webhooks specification says: headers "
            "`webhook-id` (the event id), `webhook-timestamp` (Unix seconds) and "
            "`webhook-signature` (`v1,` and the base64 HMAC-SHA256 of "
            '`"{id}.{timestamp}.{body}"` keyed by the base64-decoded part of the secret after '
            "`whsec_`), so any Standard Webhooks library verifies them. Success is a 2xx within "
            "10 s; failures are retried after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h; an "
            "endpoint that has failed for 5 days is DISABLED and its owner notified. At least "
            "once: deduplicate on `webhook-id`."
        ),
        tags=ENDPOINTS,
        request=WebhookEndpointCreateSerializer,
        responses={201: WebhookEndpointWithSecretSerializer, **errors(400, 403, 409)},
    )
    def post(self, request):
        data = _validated(WebhookEndpointCreateSerializer, request)
        endpoint = services.endpoint_create(
            owner=request.user,
            url=data["url"],
            events=data["events"],
            description=data["description"],
            now=timezone.now(),
        )
        return Response(
            WebhookEndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED
        )


class WebhookEndpointDetailView(JSONView):
    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        summary="One of the user's webhook endpoints (never its secret)",
        tags=ENDPOINTS,
        responses={200: WebhookEndpointSerializer, **errors(404)},
    )
    def get(self, request, pk: int):
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_partial_update",
        summary="Change an endpoint's URL, event types, description or status",
        tags=ENDPOINTS,
        request=WebhookEndpointUpdateSerializer,
        responses={200: WebhookEndpointSerializer, **errors(400, 403, 404)},
    )
    def patch(self, request, pk: int):
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        changes = dict(_validated(WebhookEndpointUpdateSerializer, request))
        services.endpoint_update(
            endpoint=endpoint, actor=request.user, changes=changes, now=timezone.now()
        )
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        summary="Remove an endpoint and its delivery log",
        tags=ENDPOINTS,
        responses={204: None, **errors(403, 404)},
    )
    def delete(self, request, pk: int):
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        services.endpoint_delete(endpoint=endpoint, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookEndpointRotateSecretView(JSONView):
    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        summary="Give the endpoint a new secret; the old one still signs beside it for 24 h",
        description=(
            "For 24 hours each delivery carries two signatures, space-separated in "
            "`webhook-signature`: switch the receiver to the new secret within that time. "
            "Rotating again within the 24 hours drops the oldest secret at once."
        ),
        tags=ENDPOINTS,
        request=None,
        responses={200: WebhookEndpointWithSecretSerializer, **errors(403, 404)},
    )
    def post(self, request, pk: int):
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        endpoint = services.endpoint_rotate_secret(
            endpoint=endpoint, actor=request.user, now=timezone.now()
        )
        return Response(WebhookEndpointWithSecretSerializer(endpoint).data)


class WebhookEndpointDeliveryListView(GenericAPIView):
    @extend_schema(
        operation_id="webhook_endpoints_deliveries",
        summary="The endpoint's delivery log: every attempt, newest first",
        tags=ENDPOINTS,
        responses={200: DeliveryAttemptSerializer(many=True), **errors(404)},
    )
    def get(self, request, pk: int):
        endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
        page = self.paginate_queryset(selectors.attempts_for_endpoint(endpoint=endpoint))
        return self.get_paginated_response(DeliveryAttemptSerializer(page, many=True).data)
