"""The case dossier's download button, on See Dispute and the staff case pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from django.views.decorators.http import require_GET

from core.files import private_download

from .. import dossier, selectors, staff_reads


@login_required
@require_GET
def dispute_dossier(request: HttpRequest, pk: int) -> FileResponse:
    """Send the dispute's dossier (``disputes.dossier``) as its reader may read it."""
    dispute = selectors.dispute_get_for_user(user=request.user, pk=pk)
    made = dossier.dossier_build(dispute=dispute, request=request, now=timezone.now())
    staff_reads.dossier_read(
        user=request.user, dispute=dispute, dossier=made, via="a dossier download"
    )
    return private_download(made.file, filename=made.filename, content_type="application/zip")
