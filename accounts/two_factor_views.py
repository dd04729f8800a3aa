"""The staff's two-factor pages, in the admin's look: enroll an authenticator app, and give its
code to verify a session that logged in without it (see ``accounts.two_factor``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from core import audit

from . import two_factor
from .forms import CodeForm


def _next(request: HttpRequest) -> str:
    """Where to go once verified: the page asked for, when it stays on this site."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if wanted and url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return reverse("admin:index")


def _page(request, template: str, context: dict, status: int = 200) -> TemplateResponse:
    return TemplateResponse(
        request,
        template,
        {**admin.site.each_context(request), "next": _next(request), **context},
        status=status,
    )


@login_required
def enroll(request: HttpRequest) -> HttpResponse:
    """Set up the authenticator app: scan the QR code (or type the key), confirm a code."""
    user = request.user
    if not two_factor.is_staff_account(user):
        raise Http404("Two-factor authentication is for staff accounts.")
    device = two_factor.confirmed_device(user)
    if device is not None:
        # Enrolled: never a second device from here (a stolen password must not add one).
        return _page(
            request,
            "admin/accounts/two_factor_on.html",
            {"title": "Two-factor authentication", "device": device},
        )
    device = two_factor.pending_device(user)
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        refusal = two_factor.code_refusal(device, form.cleaned_data["code"])
        if refusal is None:
            two_factor.device_confirm(device=device)
            two_factor.session_verify(request, device)
            audit.action(user=user, name="two_factor.enroll", obj=device, now=timezone.now())
            messages.success(
                request,
                "Two-factor authentication is on: from now on you log in with your password "
                "and a code from your authenticator app.",
            )
            return redirect(_next(request))
        form.add_error("code", refusal)
    return _page(
        request,
        "admin/accounts/two_factor_enroll.html",
        {
            "title": "Set up two-factor authentication",
            "form": form,
            "qr_svg": two_factor.qr_svg(device),
            "secret": two_factor.secret_text(device),
            "required": two_factor.second_factor_required(user),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """Ask an enrolled staff member for the code before their session does anything else."""
    user = request.user
    device = two_factor.confirmed_device(user) if two_factor.is_staff_account(user) else None
    if device is None:
        enroll_url = reverse("accounts:two-factor")
        return redirect(f"{enroll_url}?{urlencode({'next': _next(request)})}")
    if user.is_verified():
        return redirect(_next(request))
    form = CodeForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        refusal = two_factor.code_refusal(device, form.cleaned_data["code"])
        if refusal is None:
            two_factor.session_verify(request, device)
            return redirect(_next(request))
        form.add_error("code", refusal)
    return _page(
        request,
        "admin/accounts/two_factor_verify.html",
        {"title": "Two-factor authentication", "form": form},
        status=400 if form.is_bound else 200,
    )
