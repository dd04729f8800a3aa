"""The REST API of the user's notification inbox (``/api/v1/notifications/``).

A user reads and marks only their own notifications; anyone else's is a 404. The list carries the
number of unread notifications as ``unread`` beside ``count``, so a client can show a badge from
the same request that fills the inbox.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response

from core.api import JSONView, Pagination, errors
from core.serializers import UTCDateTimeField

from . import selectors, services

NOTIFICATIONS = ["notifications"]


class NotificationSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    kind = serializers.CharField(
        read_only=True,
        help_text="Stable, for programs: refund_requested, dispute_filed, deadline_reminder, …",
    )
    title = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    url = serializers.CharField(
        read_only=True, help_text="The browser page the notification is about (a path), or empty."
    )
    created_at = UTCDateTimeField()
    read_at = UTCDateTimeField(allow_null=True, help_text="Null while unread.")


class MarkedReadSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="How many notifications this call marked read.")
    unread = serializers.IntegerField(help_text="Unread notifications left: 0.")


class InboxPagination(Pagination):
    """The usual page, and ``unread``: how many of all the user's notifications are unread."""

    unread = 0

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data = {"count": response.data["count"], "unread": self.unread, **response.data}
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["required"] = ["count", "unread", "results"]
        paginated["properties"] = {
            "count": paginated["properties"]["count"],
            "unread": {
                "type": "integer",
                "example": 2,
                "description": "How many of all the user's notifications are unread.",
            },
            **paginated["properties"],
        }
        return paginated


class NotificationListView(GenericAPIView):
    pagination_class = InboxPagination

    @extend_schema(
        operation_id="notifications_list",
        summary="The user's inbox, newest first, with the number unread",
        tags=NOTIFICATIONS,
        responses={200: NotificationSerializer(many=True), **errors()},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.notifications_for_user(user=request.user))
        self.paginator.unread = selectors.notifications_unread_count(user=request.user)
        return self.get_paginated_response(NotificationSerializer(page, many=True).data)


class NotificationReadView(JSONView):
    @extend_schema(
        operation_id="notifications_read",
        summary="Mark one of the user's notifications read (again is harmless)",
        tags=NOTIFICATIONS,
        request=None,
        responses={
            200: OpenApiResponse(NotificationSerializer, description="The notification, read."),
            **errors(404),
        },
    )
    def post(self, request, pk: int):
        notification = selectors.notification_get_for_user(user=request.user, pk=pk)
        services.notification_mark_read(
            notification=notification, user=request.user, now=timezone.now()
        )
        notification = selectors.notification_get_for_user(user=request.user, pk=pk)
        return Response(NotificationSerializer(notification).data)


class NotificationReadAllView(JSONView):
    @extend_schema(
        operation_id="notifications_read_all",
        summary="Mark all of the user's notifications read",
        tags=NOTIFICATIONS,
        request=None,
        responses={200: MarkedReadSerializer, **errors()},
    )
    def post(self, request):
        marked = services.notifications_mark_all_read(user=request.user, now=timezone.now())
        return Response(MarkedReadSerializer({"marked": marked, "unread": 0}).data)
