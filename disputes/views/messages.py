"""The message thread on See Dispute: the parties and the staff member assigned to the case.

:func:`thread_view` is what the page shows (nothing for anyone else who reads the dispute);
:func:`dispute_message_post` is its reply form's action. Who may write and when is the dispute's
action ``message``, so the form shows exactly when the service would accept it.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError

from .. import selectors, services, staff_reads
from ..forms import MessageForm
from ..models import Dispute
from .edges import _add_field_errors

VIA = "the dispute page"


def thread_view(*, dispute: Dispute, user, bound: MessageForm | None, now: datetime) -> dict | None:
    """The thread and its reply form for ``user``, or None when the thread is not theirs (or
    has nothing to show: before the decline, or a dispute that closed without a message)."""
    if not dispute.in_thread(user):
        return None
    is_open = dispute.status in Dispute.lifecycle["message"].sources
    thread = list(selectors.dispute_messages(dispute=dispute))
    if not is_open and not thread:
        return None
    staff_reads.messages_read(user=user, dispute=dispute, via=VIA, count=len(thread))
    can_post = Dispute.lifecycle.allows("message", dispute, user=user, now=now)
    return {
        "messages": thread,
        "form": bound or (MessageForm() if can_post else None),
        "action": reverse("disputes:dispute-message", kwargs={"pk": dispute.pk}),
        "open": is_open,
    }


@login_required
@require_POST
def dispute_message_post(request: HttpRequest, pk: int) -> HttpResponse:
    from .see_dispute import render_dispute  # see_dispute shows the thread: import it late

    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = MessageForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Please correct the errors below.")
        return render_dispute(request, pk=pk, bound={"message": form}, status=400)
    try:
        services.dispute_message_post(
            dispute=dispute, author=request.user, text=form.cleaned_data["text"], now=timezone.now()
        )
    except DomainError as exc:
        # Shown once: at the field when it shows it, else as a message on the page.
        if _add_field_errors(form, exc):
            return render_dispute(request, pk=pk, bound={"message": form}, status=400)
        messages.error(request, exc.message)
        return redirect(f"{dispute.get_absolute_url()}#messages")
    messages.success(request, "Your message was sent; the others in the thread have been told.")
    return redirect(f"{dispute.get_absolute_url()}#messages")
