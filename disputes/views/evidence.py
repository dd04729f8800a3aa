"""Evidence files: the client's while a dispute waits for them, a draft's removal, downloads."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.files import private_file_response

from .. import selectors, services, staff_reads
from ..forms import EvidenceForm
from ..models import Dispute
from .edges import _add_field_errors, _files_text, _store_each
from .see_dispute import _render_dispute

DStatus = Dispute.Status


@login_required
@require_POST
def evidence_add(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach files to a dispute: the client's evidence while the dispute waits for them."""
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    form = EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        return _render_dispute(request, pk=pk, bound={"evidence": form}, status=400)
    now = timezone.now()
    try:
        stored = _store_each(
            form.cleaned_data["files"],
            lambda upload: services.evidence_add(
                dispute=dispute,
                actor=request.user,
                file=upload,
                description=form.cleaned_data["description"],
                now=now,
            ),
        )
    except DomainError as exc:
        if _add_field_errors(form, exc, {"file": "files"}):
            return _render_dispute(request, pk=pk, bound={"evidence": form}, status=400)
        messages.error(request, exc.message)
        return redirect(dispute)
    names = ", ".join(f"“{e.name}”" for e in stored)
    messages.success(request, f"Added {_files_text(len(stored))} to the dispute: {names}.")
    return redirect(dispute)


@login_required
@require_POST
def evidence_remove(request: HttpRequest, pk: int) -> HttpResponse:
    """Take a file out of a draft filing (step 2's Remove button)."""
    stored = selectors.evidence_get_for_user(user=request.user, pk=pk)
    if stored.dispute_id is None:
        raise Http404("Support case files cannot be removed.")
    dispute = selectors.dispute_get_for_user(user=request.user, pk=stored.dispute_id)
    try:
        services.evidence_remove(evidence=stored, actor=request.user, now=timezone.now())
    except DomainError as exc:
        messages.error(request, exc.message)
        if dispute.status == DStatus.DRAFT:
            return redirect("disputes:dispute-details", pk=dispute.pk)
        return redirect(dispute)
    messages.success(request, f"Removed “{stored.name}” from your draft.")
    return redirect("disputes:dispute-details", pk=dispute.pk)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> FileResponse:
    """Send an evidence file, as an attachment, to those who may read its case and to staff."""
    stored = selectors.evidence_get_for_user(user=request.user, pk=pk)
    staff_reads.file_read(user=request.user, evidence=stored, via="a download")
    return private_file_response(
        stored.file, filename=stored.download_name, content_type=stored.content_type
    )
