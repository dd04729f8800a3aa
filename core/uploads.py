"""Checking uploaded files before anything is stored, and the names they are served under.

A file is accepted by what it contains, never by its name or the browser's claim: the first bytes
must be those of a PDF, PNG, JPEG or ZIP, or the whole file must be UTF-8 text without NUL bytes.
Then its content is checked for what it could do:

- a ZIP archive is opened (never extracted) and refused when it expands beyond
  UPLOAD_ZIP_MAX_EXPANDED_BYTES or holds more than UPLOAD_ZIP_MAX_ENTRIES entries, a path out of
  its folder, a symbolic link, another archive or a program (``core.zip_inspection``);
- a PDF is refused when it names JavaScript, a launch action or embedded files
  (``core.pdf_inspection``);
- text is refused when it would run or render where it is opened: a name such as ``run.bat``,
  ``x.hta`` or ``page.html`` (text has no signature, so its name says what it is), or content
  that starts as HTML, SVG or XML does.

A file is stored, and downloaded, under a generated name with the extension of the type its
content proved (``evidence-12.pdf`` for a PDF uploaded as ``setup.exe``); the name the person
gave is kept only to be shown, as text.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from .errors import InvalidInput
from .formats import human_size
from .pdf_inspection import PdfRefused, check_pdf
from .zip_inspection import EXECUTABLE_EXTENSIONS, ZipRefused, check_zip, extension

__all__ = [
    "ALLOWED_TYPES_TEXT",
    "REFUSED_TEXT",
    "CheckedUpload",
    "check_upload",
    "check_uploads",
    "download_name",
    "human_size",
]

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
ZIP = "application/zip"
TEXT = "text/plain"
_SIGNATURES = [
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
]
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", ZIP: ".zip", TEXT: ".txt"}
ALLOWED_TYPES_TEXT = "PDF, PNG, JPEG, plain text or ZIP"
# What the forms tell people before they choose files.
REFUSED_TEXT = (
    "Programs, scripts, web pages, PDFs with scripts or embedded files, and ZIPs holding "
    "programs or other archives are refused."
)
# Plain text may hold tabs, line and page breaks, but no other control characters.
_CONTROL_BYTES = [bytes([b]) for b in [*range(0, 9), 11, *range(14, 32), 127]]
# Text named like one of these is a page a browser renders or a script a system runs.
MARKUP_EXTENSIONS = frozenset(
    ["htm", "html", "xhtml", "shtml", "mht", "mhtml", "svg", "svgz", "xml", "xsl", "xslt"]
)
# How browsers recognise HTML (the WHATWG sniffing patterns), SVG and XML at a file's start.
_MARKUP_START = re.compile(
    rb"\A(?:\xef\xbb\xbf)?[\t\n\x0c\r ]*<(?:!--|\?xml|!doctype\s+html|(?:html|head|script|"
    rb"iframe|h1|div|font|table|a|style|title|b|body|br|p|svg|math|object|embed)[\t\n\x0c\r />])",
    re.IGNORECASE,
)


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


def download_name(prefix: str, pk: int, content_type: str) -> str:
    """The name a stored file is downloaded under: ``evidence-12.pdf``, never the uploaded one."""
    return f"{prefix}-{pk}{EXTENSIONS.get(content_type, '.bin')}"


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


def _read_all(upload: UploadedFile) -> bytes:
    upload.seek(0)
    data = upload.read()
    upload.seek(0)
    return data


def _is_text(data: bytes) -> bool:
    if any(byte in data for byte in _CONTROL_BYTES):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _sniff(upload: UploadedFile) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    for signature, content_type in _SIGNATURES:
        if head.startswith(signature):
            return content_type
    return TEXT if _is_text(_read_all(upload)) else None


def _check_text(upload: UploadedFile, name: str, field: str) -> None:
    kind = extension(name)
    if kind in EXECUTABLE_EXTENSIONS:
        raise _invalid(field, f"Programs and scripts (.{kind} files) are refused.")
    upload.seek(0)
    if kind in MARKUP_EXTENSIONS or _MARKUP_START.match(upload.read(1024)):
        raise _invalid(
            field,
            "Web pages, SVG and XML files are refused as they are: send a PDF or an image, or "
            "put them in a ZIP archive.",
        )


def _check_content(upload: UploadedFile, content_type: str, name: str, field: str) -> None:
    try:
        if content_type == ZIP:
            check_zip(
                upload,
                max_entries=settings.UPLOAD_ZIP_MAX_ENTRIES,
                max_expanded=settings.UPLOAD_ZIP_MAX_EXPANDED_BYTES,
                pdf_max_expanded=settings.UPLOAD_PDF_MAX_EXPANDED_BYTES,
            )
        elif content_type == PDF:
            check_pdf(_read_all(upload), max_expanded=settings.UPLOAD_PDF_MAX_EXPANDED_BYTES)
        elif content_type == TEXT:
            _check_text(upload, name, field)
    except (ZipRefused, PdfRefused) as refused:
        raise _invalid(field, str(refused)) from None


def check_upload(upload: UploadedFile, *, field: str = "file") -> CheckedUpload:
    """Return the checked facts of ``upload`` or raise InvalidInput; nothing is stored."""
    name = _clean_name(upload.name or "", field)
    if upload.size is None or upload.size == 0:
        raise _invalid(field, "The file is empty.")
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise _invalid(field, f"Each file may be at most {human_size(limit)}.")
    content_type = _sniff(upload)
    if content_type is None:
        raise _invalid(field, f"This file is not a {ALLOWED_TYPES_TEXT} file.")
    _check_content(upload, content_type, name, field)
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return CheckedUpload(
        file=upload,
        name=name,
        content_type=content_type,
        extension=EXTENSIONS[content_type],
        size=upload.size,
        sha256=digest.hexdigest(),
    )


def check_uploads(uploads: list[UploadedFile], *, field: str = "files") -> list[CheckedUpload]:
    if len(uploads) > settings.UPLOAD_MAX_FILES:
        raise _invalid(field, f"At most {settings.UPLOAD_MAX_FILES} files may be attached.")
    return [check_upload(upload, field=field) for upload in uploads]
