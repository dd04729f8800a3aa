"""Two-factor authentication for staff: a code from an authenticator app (TOTP, django-otp).

Who: every account that can act as staff — ``is_staff`` (the admin site), superusers, and
holders of a staff role (a group). When: with ``STAFF_2FA_REQUIRED`` (on in production) always;
without it (the local default) once the person has enrolled a device, from the admin.

How a session becomes verified: the admin's login form asks for the code with the password
(:class:`accounts.forms.StaffAuthenticationForm`); a staff member who logged in elsewhere is
asked for it on the verify page; one without a device is led to enroll one (the secret as a QR
code drawn here, as inline SVG, and a code to confirm it). Until then
:class:`StaffTwoFactorMiddleware` lets the session reach only those pages, log in and log out:
every other page redirects there, and the API answers 403 ``otp_required``. So every admin
page, staff page and staff API call by session needs a verified session.

API tokens: a token is a password that never asks for the second factor, so with
``STAFF_2FA_REQUIRED`` staff accounts get none (``POST /api/v1/auth/token/`` refuses them) and
a token a staff account holds is refused (:class:`TokenAuthentication`). Staff use the API
from their verified browser session (session authentication, with CSRF).
"""

from __future__ import annotations

from base64 import b32encode

import segno
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.http import JsonResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication as DRFTokenAuthentication

from core.actions import roles_of

DEVICE_NAME = "Authenticator app"
STAFF_TOKEN_REFUSED = (
    "Staff accounts do not use API tokens: a token would skip two-factor authentication. Use "
    "the API from your browser session after confirming your code."
)
OTP_REQUIRED = (
    "Confirm the code from your authenticator app first: staff sessions need two-factor "
    "authentication."
)


# --- Who and when ---------------------------------------------------------------------------------


def is_staff_account(user) -> bool:
    """Whether ``user`` can act as staff: the admin site, a superuser, or a staff role."""
    if not user.is_authenticated:
        return False
    return user.is_staff or user.is_superuser or bool(roles_of(user))


def confirmed_device(user) -> TOTPDevice | None:
    """The user's authenticator app, once enrolled (confirmed with a code)."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def second_factor_required(user) -> bool:
    """Whether ``user``'s session must be verified with a code before it does anything."""
    if not is_staff_account(user):
        return False
    return settings.STAFF_2FA_REQUIRED or confirmed_device(user) is not None


# --- Devices and codes ----------------------------------------------------------------------------


def pending_device(user) -> TOTPDevice:
    """The device being enrolled: made at the first visit, kept until it is confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def code_refusal(device: TOTPDevice, code: str) -> str | None:
    """Check ``code`` against ``device``; return why it is refused, or None when it is right.

    Each code works once, and wrong codes slow the next tries down (django-otp's throttling).
    """
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        allowed, _ = device.verify_is_allowed()
        if not allowed:
            return "Too many wrong codes: wait a little, then try the newest code."
        if device.verify_token(code):
            return None
    return "That code is not right. Enter the 6-digit code your authenticator app shows now."


@transaction.atomic
def device_confirm(*, device: TOTPDevice) -> TOTPDevice:
    """Make ``device`` the user's authenticator app (its code was just checked)."""
    TOTPDevice.objects.filter(user_id=device.user_id, confirmed=False).exclude(
        pk=device.pk
    ).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def session_verify(request, device: TOTPDevice) -> None:
    """Mark this session verified by ``device``, under a new session key."""
    request.session.cycle_key()
    otp_login(request, device)


def secret_text(device: TOTPDevice) -> str:
    """The secret as an app's "enter a key" field takes it: base32, in groups of four."""
    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_svg(device: TOTPDevice) -> SafeString:
    """The device's ``otpauth://`` address as a QR code, an inline SVG drawn here."""
    code = segno.make(device.config_url, error="m")
    return mark_safe(code.svg_inline(scale=4, border=4, light="#fff", dark="#000"))


# --- Holding an unverified staff session ----------------------------------------------------------


def _open_paths() -> tuple[str, ...]:
    return (
        reverse("accounts:two-factor"),
        reverse("accounts:two-factor-verify"),
        reverse("login"),
        reverse("logout"),
        reverse("admin:login"),
        reverse("admin:logout"),
    )


class StaffTwoFactorMiddleware:
    """Hold a staff session at the second step of its login until it is verified.

    After ``django_otp.middleware.OTPMiddleware``, which tells whether the session is verified.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            is_staff_account(user)
            and not user.is_verified()
            and second_factor_required(user)
            and not self._open(request.path)
        ):
            return self._hold(request)
        return self.get_response(request)

    def _open(self, path: str) -> bool:
        return path in _open_paths() or path.startswith(f"/{settings.STATIC_URL.lstrip('/')}")

    def _hold(self, request):
        if request.path.startswith("/api/"):
            from core.api import error_body

            return JsonResponse(error_body(code="otp_required", message=OTP_REQUIRED), status=403)
        step = "accounts:two-factor-verify"
        if confirmed_device(request.user) is None:
            step = "accounts:two-factor"
        target = request.get_full_path() if request.method == "GET" else reverse("admin:index")
        return redirect_to_login(target, reverse(step))


class TokenAuthentication(DRFTokenAuthentication):
    """DRF's token authentication, which refuses staff tokens while two-factor authentication
    is required (a token would skip it)."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if settings.STAFF_2FA_REQUIRED and is_staff_account(user):
            raise exceptions.AuthenticationFailed(STAFF_TOKEN_REFUSED)
        return user, token
