"""A request whose body is declared too large is refused with 413 before a byte of it is read."""

import io
import json

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.middleware import request_limit
from tests import kit
from tests.kit import ContractFactory

# Django closes stale database connections when a request ends, whatever its answer.
pytestmark = pytest.mark.django_db

MB = 1024 * 1024


class UnreadableInput(io.RawIOBase):
    """A WSGI input that fails the test if anything reads it."""

    def readable(self):
        return True

    def readinto(self, buffer):
        raise AssertionError("the request body was read")


def call(path: str, content_length: int, **headers) -> tuple[int, dict[str, str], bytes]:
    """Send a POST declaring ``content_length`` bytes straight to the WSGI application."""
    environ = {
        **headers,
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "HTTP_HOST": "testserver",
        "wsgi.url_scheme": "http",
        "wsgi.input": UnreadableInput(),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "multipart/form-data; boundary=----x",
        "CONTENT_LENGTH": str(content_length),
    }
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])
        answer["headers"] = dict(headers)

    body = b"".join(WSGIHandler()(environ, start_response))
    return answer["status"], answer["headers"], body


class TestRequestSizeLimit:
    def test_the_api_refuses_200_mb_in_its_error_shape_without_reading_it(self, freelancer):
        token = Token.objects.create(user=freelancer)
        dispute = kit.draft(kit.refund_request(ContractFactory(freelancer=freelancer)))

        status, headers, body = call(
            kit.url(dispute, "evidence/"), 200 * MB, HTTP_AUTHORIZATION=f"Token {token.key}"
        )

        assert status == 413
        assert headers["Content-Type"] == "application/json"
        assert json.loads(body) == {
            "error": {
                "code": "request_too_large",
                "message": (
                    "The request is too large: at most 100 MB of files may be sent at once, "
                    "each file at most 10 MB. Nothing was saved."
                ),
                "fields": {},
            }
        }

    def test_a_browser_form_gets_a_page_that_says_why(self):
        status, headers, body = call(reverse("disputes:evidence-add", args=[1]), 200 * MB)

        assert status == 413
        assert headers["Content-Type"].startswith("text/html")
        assert headers["Content-Security-Policy"].startswith("default-src 'self'")
        html = body.decode()
        assert "<h1>Too large to send</h1>" in html
        assert "at most 100 MB of files may be sent at once" in html

    def test_the_limit_follows_the_settings(self, settings):
        settings.UPLOAD_MAX_REQUEST_BYTES = 5 * MB

        assert request_limit() == 6 * MB
        assert call("/api/v1/support-cases/", 6 * MB + 1)[0] == 413

    def test_lets_a_request_within_the_limit_through(self, settings):
        settings.UPLOAD_MAX_REQUEST_BYTES = 5 * MB

        status, _, body = call("/api/v1/support-cases/", 0)

        assert status == 401
        assert json.loads(body)["error"]["code"] == "not_authenticated"
