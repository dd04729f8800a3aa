"""The notifications inbox: every message the user was sent, newest first.

Marking read is a POST (one service each); opening a notification marks it read and follows its
link, so the unread count in the header goes down as the user works through the inbox.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from . import selectors, services

PAGE_SIZE = 20


def _safe_url(request: HttpRequest, url: str) -> str | None:
    """Return ``url`` if it stays on this site, else None."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return None


def _back_to_inbox(request: HttpRequest) -> HttpResponse:
    """Return to the inbox page the user came from (a ``next`` field of the form)."""
    return redirect(_safe_url(request, request.POST.get("next", "")) or reverse("accounts:inbox"))


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    paginator = Paginator(selectors.notifications_for_user(user=request.user), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "accounts/inbox.html", {"page": page})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notification = selectors.notification_get_for_user(user=request.user, pk=pk)
    services.notification_mark_read(
        notification=notification, user=request.user, now=timezone.now()
    )
    return _back_to_inbox(request)


@login_required
@require_POST
def notification_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark the notification read and follow its link."""
    notification = selectors.notification_get_for_user(user=request.user, pk=pk)
    services.notification_mark_read(
        notification=notification, user=request.user, now=timezone.now()
    )
    return redirect(_safe_url(request, notification.url) or reverse("accounts:inbox"))


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user, now=timezone.now())
    if count:
        messages.success(
            request, f"Marked {count} notification{'s' if count != 1 else ''} as read."
        )
    else:
        messages.info(request, "Nothing was unread.")
    return _back_to_inbox(request)
