"""Checking uploaded files before anything is stored.

A file is accepted by what it contains, never by its name or the browser's claim: the first bytes
must be those of a PDF, PNG, JPEG or ZIP, or the whole file must be UTF-8 text without NUL bytes.
Stored files get generated names; the uploaded name is kept only for display and download.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from .errors import InvalidInput

_SIGNATURES = [
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"PK\x03\x04", "application/zip", ".zip"),
    (b"PK\x05\x06", "application/zip", ".zip"),  # an empty archive
]
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, plain text or ZIP"
# Plain text may hold tabs, line and page breaks, but no other control characters.
_CONTROL_BYTES = [bytes([b]) for b in [*range(0, 9), 11, *range(14, 32), 127]]


def human_size(size: int) -> str:
    """A size as people read it: "512 bytes", "3.7 KB", "10 MB"."""
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


@dataclass(frozen=True)
class CheckedUpload:
    file: UploadedFile
    name: str
    content_type: str
    extension: str
    size: int
    sha256: str

    def storage_name(self, folder: str) -> str:
        return f"{folder}/{uuid.uuid4().hex}{self.extension}"


def _invalid(field: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_file", fields={field: [message]})


def _clean_name(raw: str, field: str) -> str:
    if (
        not raw
        or "/" in raw
        or "\\" in raw
        or raw in {".", ".."}
        or raw.startswith(".")
        or any(not ch.isprintable() for ch in raw)
        or len(raw) > 200
    ):
        raise _invalid(field, "The file name must be a plain name without folders.")
    return raw


def _sniff(head: bytes, upload: UploadedFile) -> tuple[str, str] | None:
    for signature, content_type, extension in _SIGNATURES:
        if head.startswith(signature):
            return content_type, extension
    upload.seek(0)
    data = upload.read()
    if any(byte in data for byte in _CONTROL_BYTES):
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain", ".txt"


def check_upload(upload: UploadedFile, *, field: str = "file") -> CheckedUpload:
    """Return the checked facts of ``upload`` or raise InvalidInput; nothing is stored."""
    name = _clean_name(upload.name or "", field)
    if upload.size is None or upload.size == 0:
        raise _invalid(field, "The file is empty.")
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise _invalid(field, f"Each file may be at most {human_size(limit)}.")
    upload.seek(0)
    head = upload.read(16)
    kind = _sniff(head, upload)
    if kind is None:
        raise _invalid(field, f"This file is not a {ALLOWED_TYPES_TEXT} file.")
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        file=upload,
        name=name,
        content_type=kind[0],
        extension=kind[1],
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def check_uploads(uploads: list[UploadedFile], *, field: str = "files") -> list[CheckedUpload]:
    if len(uploads) > settings.UPLOAD_MAX_FILES:
        raise _invalid(field, f"At most {settings.UPLOAD_MAX_FILES} files may be attached.")
    return [check_upload(upload, field=field) for upload in uploads]
