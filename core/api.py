"""What every API endpoint shares: the one error shape, pagination, JSON views, idempotent POSTs."""

from __future__ import annotations

import hashlib
import json
from functools import wraps

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import IntegrityError, transaction
from django.http import Http404, JsonResponse
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.defaults import page_not_found
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from .actions import atomic
from .api_defaults import is_storable
from .errors import Conflict, DeadlineSettled, DomainError, InvalidInput
from .models import IdempotencyRecord

_STATUS_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "not_allowed",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    415: "unsupported_media_type",
    429: "throttled",
}


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class JSONView(APIView):
    parser_classes = [JSONParser]


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _flatten(detail) -> dict[str, list[str]]:
    """Turn DRF's nested error detail into ``{"field": ["message", ...]}``."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for name, value in detail.items():
            if isinstance(value, dict):
                for sub, messages in _flatten(value).items():
                    flat[f"{name}.{sub}"] = messages
            elif isinstance(value, list) and value and isinstance(value[0], dict):
                for index, item in enumerate(value):
                    for sub, messages in _flatten(item).items():
                        flat[f"{name}.{index}.{sub}"] = messages
            else:
                values = value if isinstance(value, list) else [value]
                flat[name] = [str(v) for v in values]
        return flat
    values = detail if isinstance(detail, list) else [detail]
    return {"non_field_errors": [str(v) for v in values]}


def _leaf_codes(codes):
    """Yield every error code in DRF's nested ``get_codes()`` result."""
    if isinstance(codes, dict):
        for value in codes.values():
            yield from _leaf_codes(value)
    elif isinstance(codes, list):
        for value in codes:
            yield from _leaf_codes(value)
    else:
        yield str(codes)


def exception_handler(exc, context):
    """Render every 4xx in the one shape ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, DomainError):
        retry_after = getattr(exc, "retry_after", None)
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields),
            status=exc.status,
            headers={"Retry-After": str(retry_after)} if retry_after else None,
        )
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        first = next(iter(fields.values()))[0] if fields else "Invalid input."
        message = first if list(fields) == ["non_field_errors"] else "Some fields are invalid."
        if list(fields) == ["non_field_errors"]:
            fields = {}
        codes = set(_leaf_codes(exc.get_codes()))
        code = codes.pop() if len(codes) == 1 else "invalid"
        body = error_body(code=code, message=message, fields=fields)
    else:
        code = _STATUS_CODES.get(exc.status_code, exc.default_code)
        if isinstance(exc, exceptions.ParseError):
            code = "malformed_request"
        body = error_body(code=code, message=str(exc.detail))
    return Response(body, status=exc.status_code, headers=headers)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable, for programs to branch on: invalid_amount, …")
    message = serializers.CharField(help_text="For people: what went wrong.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="The messages of each invalid input field; empty when none is to blame.",
    )


class ErrorSerializer(serializers.Serializer):
    """The one error shape, for the schema."""

    error = ErrorDetailSerializer()


_ERROR_DESCRIPTIONS = {
    400: "Bad input; nothing changed.",
    401: "Not authenticated.",
    403: (
        "Authenticated, but this action is not this user's to take; nothing changed. "
        "`conflict_of_interest`: a staff member acting on a case they are a party to, or an "
        "arbitrator on a dispute they mediated; `account_suspended`: the account may only read."
    ),
    404: "Not found, or not visible to this user.",
    409: (
        "The object is not in a state that allows the action; nothing changed by this request. "
        "`deadline_passed`: the deadline for the action had passed, and what the deadline does "
        "(a refund, a release, a notice, a closed window) has been applied to the object in the "
        "meantime, exactly as the periodic sweep would have; read the object again to see it."
    ),
    413: (
        "`request_too_large`: the request's Content-Length is over the limit (the "
        "UPLOAD_MAX_REQUEST_BYTES setting for the files, and a little for the fields); it was "
        "refused before its body was read."
    ),
    415: (
        "`unsupported_media_type`: the body is of a type this endpoint does not take (a "
        "multipart upload where only JSON is read); nothing changed."
    ),
    429: "Throttled.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """Document error statuses of an endpoint in the one error shape, for ``extend_schema``."""
    return {
        code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code])
        for code in codes
    }


def errors(*codes: int) -> dict:
    """Document ``codes`` and the errors every endpoint here can answer: 401 and 429."""
    return error_responses(*sorted({*codes, 401, 429}))


IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    name="Idempotency-Key",
    type=str,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Up to 255 characters, unique per intended action. A replay by the same user returns the "
        "first response (with the header Idempotent-Replayed: true) and moves no money again; "
        "the same key with a different request is a 409 idempotency_key_reused."
    ),
)


def not_found(request, exception=None):
    """Answer an unknown URL under /api/ in the one error shape; elsewhere, Django's 404 page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            error_body(code="not_found", message="Not found."), status=status.HTTP_404_NOT_FOUND
        )
    return page_not_found(request, exception)


def _fingerprint(request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str)
    raw = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(raw.encode()).hexdigest()


def idempotent(view_method):
    """Make a money-moving POST safe to retry with an ``Idempotency-Key`` header.

    The key is recorded in the same transaction as the action itself, so either both commit or
    neither does. A replay by the same user returns the stored first response and moves nothing;
    the same key with another method, path or body is a 409. A concurrent duplicate waits on the
    unique index until the first commits, then replays it. Errors are not stored: a request that
    failed changed nothing and may be retried with the same key — except a refusal because the
    deadline passed, which leaves what the deadline did and is replayed as it was answered.
    """

    @wraps(view_method)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return view_method(self, request, *args, **kwargs)
        if not key or len(key) > 255 or not is_storable(key):
            raise InvalidInput(
                "Idempotency-Key must be 1 to 255 characters, without NUL.",
                code="invalid_idempotency_key",
            )
        fingerprint = _fingerprint(request)
        now = timezone.now()
        with atomic():
            IdempotencyRecord.objects.filter(
                user=request.user, key=key, created_at__lt=now - settings.IDEMPOTENCY_KEY_TTL
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyRecord.objects.create(
                        user=request.user,
                        key=key,
                        fingerprint=fingerprint,
                        response_status=0,
                        response_body={},
                        created_at=now,
                    )
            except IntegrityError:
                record = IdempotencyRecord.objects.get(user=request.user, key=key)
                if record.fingerprint != fingerprint:
                    raise Conflict(
                        "This Idempotency-Key was already used with a different request.",
                        code="idempotency_key_reused",
                    ) from None
                return Response(
                    record.response_body,
                    status=record.response_status,
                    headers={"Idempotent-Replayed": "true"},
                )
            try:
                response = view_method(self, request, *args, **kwargs)
            except DeadlineSettled as refusal:
                # What the deadline did stays (core.actions), and so does this answer: a replay
                # with the key gets the same 409, not another refusal of the changed object.
                record.response_status = refusal.status
                record.response_body = error_body(
                    code=refusal.code, message=refusal.message, fields=refusal.fields
                )
                record.save(update_fields=["response_status", "response_body"])
                raise
            if status.is_success(response.status_code):
                record.response_status = response.status_code
                record.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
                record.save(update_fields=["response_status", "response_body"])
            else:
                transaction.set_rollback(True)
            return response

    return wrapper


class _PathRefusingParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        # Django would quietly keep only the last part of "../../x.pdf"; we refuse it instead,
        # so a client learns its upload was not what it meant to send.
        if "/" in file_name or "\\" in file_name or file_name.strip() in {".", ".."}:
            message = "File names may not contain folders: send the plain file name."
            raise InvalidInput(message, code="invalid_file", fields={"file": [message]})
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing file names with path parts (a 400, nothing stored)."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _PathRefusingParser(meta, stream, request.upload_handlers, encoding)
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise exceptions.ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)
