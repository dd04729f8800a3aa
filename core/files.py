"""Sending a private upload (submitted work, evidence) back to someone allowed to read it.

The file always leaves as a download, never rendered by the browser: ``nosniff`` stops content
sniffing, the sandboxing Content-Security-Policy keeps an HTML or SVG upload from running in our
origin if it is opened anyway, and ``no-store`` keeps it out of shared caches. The caller checks
who may read the file before it calls this.
"""

from __future__ import annotations

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def private_file_response(file: FieldFile, *, filename: str, content_type: str) -> FileResponse:
    """Return ``file`` as an attachment named ``filename``; 404 when it is no longer stored."""
    try:
        handle = file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is no longer stored.") from None
    return private_download(handle, filename=filename, content_type=content_type)


def private_download(handle, *, filename: str, content_type: str) -> FileResponse:
    """Return the open binary ``handle`` as an attachment named ``filename`` (a file made for
    the request, such as a case's dossier), with the same protections."""
    response = FileResponse(
        handle, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
