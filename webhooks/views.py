"""The Webhooks page of the user's account: endpoints, their secrets (shown once), recent
deliveries. Every change is a POST that calls one service and comes back here with a message;
the page works without JavaScript.

A new secret is kept in the session only until the page that shows it is rendered.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError

from . import catalog, selectors, services
from .forms import EndpointForm
from .models import WebhookEndpoint

SECRET_KEY = "webhooks_new_secret"


def _back(request: HttpRequest, endpoint: WebhookEndpoint | None = None) -> HttpResponse:
    response = redirect("webhooks:page")
    if endpoint is not None:
        response["Location"] += f"#endpoint-{endpoint.pk}"
    return response


def _show_secret_once(request: HttpRequest, endpoint: WebhookEndpoint) -> None:
    request.session[SECRET_KEY] = {"endpoint": endpoint.pk, "secret": endpoint.secret}


@login_required
def page(request: HttpRequest, form: EndpointForm | None = None) -> HttpResponse:
    return render(
        request,
        "webhooks/page.html",
        {
            "endpoints": list(selectors.endpoints_for_user(user=request.user)),
            "attempts": selectors.recent_attempts_for_user(user=request.user),
            "new_secret": request.session.pop(SECRET_KEY, None),
            "form": form or EndpointForm(),
            "types": list(catalog.TYPES.items()),
        },
        status=400 if form is not None else 200,
    )


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The endpoint was not added: see the form below.")
        return page(request, form)
    try:
        endpoint = services.endpoint_create(
            owner=request.user,
            url=form.cleaned_data["url"],
            events=form.cleaned_data["events"],
            description=form.cleaned_data["description"],
            now=timezone.now(),
        )
    except DomainError as error:
        for name, texts in error.fields.items():
            if name in form.fields:
                for text in texts:
                    form.add_error(name, text)
        messages.error(request, f"The endpoint was not added: {error.message}")
        return page(request, form)
    _show_secret_once(request, endpoint)
    messages.success(request, f"Endpoint added: {endpoint.url}. Copy its secret now.")
    return _back(request, endpoint)


@login_required
@require_POST
def rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
    try:
        endpoint = services.endpoint_rotate_secret(
            endpoint=endpoint, actor=request.user, now=timezone.now()
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, endpoint)
    _show_secret_once(request, endpoint)
    messages.success(
        request,
        "New secret made. The old one keeps signing beside it for 24 hours: switch your "
        "receiver to the new one before then.",
    )
    return _back(request, endpoint)


@login_required
@require_POST
def set_status(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
    wanted = request.POST.get("status")
    if wanted not in WebhookEndpoint.Status.values:
        messages.error(request, "Choose to enable or disable the endpoint.")
        return _back(request, endpoint)
    try:
        services.endpoint_update(
            endpoint=endpoint, actor=request.user, changes={"status": wanted}, now=timezone.now()
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, endpoint)
    if wanted == WebhookEndpoint.Status.ENABLED:
        messages.success(request, f"{endpoint.url} is enabled: new events are sent to it.")
    else:
        messages.success(request, f"{endpoint.url} is disabled: nothing is sent to it.")
    return _back(request, endpoint)


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = selectors.endpoint_get_for_user(user=request.user, pk=pk)
    try:
        services.endpoint_delete(endpoint=endpoint, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _back(request, endpoint)
    messages.success(request, f"Endpoint removed: {endpoint.url}.")
    return _back(request)
