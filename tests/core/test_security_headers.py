"""The Content-Security-Policy and Permissions-Policy on every response, a nonce for any inline
script, and the stricter policy of private downloads kept as they set it.
"""

import pytest
from django.http import HttpResponse
from django.middleware.csp import ContentSecurityPolicyMiddleware
from django.template import engines
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from disputes import services
from tests import kit
from tests.upload_samples import PDF_BYTES

pytestmark = pytest.mark.django_db

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
PERMISSIONS = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)


class TestHeaders:
    @pytest.mark.parametrize(
        "path", ["/login/", "/no-such-page/", "/api/v1/me/", "/api/docs/", "/admin/login/"]
    )
    def test_every_response_carries_both_policies(self, client, path):
        response = client.get(path)

        assert response["Content-Security-Policy"] == CSP
        assert response["Permissions-Policy"] == PERMISSIONS

    def test_pages_of_a_logged_in_party_carry_them(self, contract, client_user):
        response = kit.browser_for(client_user).get(contract.get_absolute_url())

        assert response.status_code == 200
        assert response["Content-Security-Policy"] == CSP
        assert "<script>" not in response.content.decode()
        assert ' style="' not in response.content.decode()

    def test_a_private_download_keeps_its_own_sandboxing_policy(
        self, contract, freelancer, private_storage_per_test
    ):
        dispute = kit.draft(kit.refund_request(contract))
        evidence = services.evidence_add(
            dispute=dispute,
            actor=freelancer,
            file=kit.pdf(content=PDF_BYTES),
            now=timezone.now(),
        )

        response = kit.browser_for(freelancer).get(evidence.get_absolute_url())

        assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
        assert response["Permissions-Policy"] == PERMISSIONS

    def test_an_inline_script_gets_the_requests_nonce(self):
        template = engines["django"].from_string('<script nonce="{{ csp_nonce }}">go()</script>')
        request = RequestFactory().get(reverse("login"))

        def view(request):
            return HttpResponse(template.render({}, request))

        response = ContentSecurityPolicyMiddleware(view)(request)

        nonce = response.content.decode().split('nonce="')[1].split('"')[0]
        assert len(nonce) >= 16
        assert f"script-src 'self' 'nonce-{nonce}';" in response["Content-Security-Policy"]
