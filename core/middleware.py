"""Request and response guards every view shares: the Permissions-Policy header, and the refusal
of a request too large to read.

``RequestSizeLimitMiddleware`` sits before any middleware that reads the body (the CSRF check
reads a form's fields): a request whose ``Content-Length`` says it carries more than
UPLOAD_MAX_REQUEST_BYTES of files, and a little more for the form's fields, is answered 413 at
once, without reading a byte of it. Django would otherwise stream every file of the body to disk
before any view could refuse it. The API answers in its one error shape; a browser gets a page.
A body sent without a length (chunked) is never read by Django at all. This holds under WSGI
(gunicorn, as the Procfile serves the site); Django's ASGI handler reads a body before any
middleware runs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from .api import error_body
from .formats import human_size

# Room for a form's text fields and the multipart framing around the files.
FORM_MARGIN_BYTES = 1024 * 1024


class PermissionsPolicyMiddleware:
    """Switch off the browser features no page uses (settings.PERMISSIONS_POLICY)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY:
            response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


def request_limit() -> int:
    """The most bytes a request body may declare."""
    return settings.UPLOAD_MAX_REQUEST_BYTES + FORM_MARGIN_BYTES


class RequestSizeLimitMiddleware:
    """Refuse, with 413 and unread, a request whose declared body is over request_limit()."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0  # Django reads no body from a request with an unreadable length
        if declared > request_limit():
            return too_large(request)
        return self.get_response(request)


def too_large(request: HttpRequest) -> HttpResponse:
    files = human_size(settings.UPLOAD_MAX_REQUEST_BYTES)
    each = human_size(settings.UPLOAD_MAX_BYTES)
    message = (
        f"The request is too large: at most {files} of files may be sent at once, each file "
        f"at most {each}. Nothing was saved."
    )
    if request.path.startswith("/api/"):
        body = error_body(code="request_too_large", message=message)
        return JsonResponse(body, status=413)
    referer = request.META.get("HTTP_REFERER", "")
    safe = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    context = {"message": message, "back_url": referer if safe else "/"}
    return render(request, "413.html", context, status=413)
