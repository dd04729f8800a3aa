"""Files people upload, harmless and hostile, made in memory for the upload tests of every door
(the checks themselves, the API, the browser forms).
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from functools import cache

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

PDF_BYTES = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
WINDOWS_PROGRAM = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(range(256))
LINUX_PROGRAM = b"\x7fELF\x02\x01\x01\x00" + bytes(range(256))


def upload(name: str, content: bytes, content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, content, content_type=content_type)


# --- PDF ----------------------------------------------------------------------------------------


def pdf(*objects: bytes) -> bytes:
    """A small PDF whose body holds ``objects`` (numbered from 3) after a catalog and pages."""
    body = [
        b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj",
        b"2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj",
    ]
    body += [b"%d 0 obj " % number + obj + b" endobj" for number, obj in enumerate(objects, 3)]
    return b"%PDF-1.7\n" + b"\n".join(body) + b"\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def pdf_stream(content: bytes, *, filters: bytes = b"/FlateDecode", extra: bytes = b"") -> bytes:
    """A stream object's text: ``content`` compressed with zlib when the filter is FlateDecode."""
    data = zlib.compress(content) if filters == b"/FlateDecode" else content
    head = b"<< /Length %d /Filter %s %s>>" % (len(data), filters, extra)
    return head + b"\nstream\n" + data + b"\nendstream"


def pdf_object_stream(*objects: bytes, filters: bytes = b"/FlateDecode") -> bytes:
    """A compressed object stream (PDF 1.5) holding ``objects`` as objects 10, 11, …"""
    offsets, body = [], b""
    for obj in objects:
        offsets.append(len(body))
        body += obj + b"\n"
    header = b" ".join(b"%d %d" % (10 + i, offset) for i, offset in enumerate(offsets)) + b"\n"
    extra = b"/Type /ObjStm /N %d /First %d " % (len(objects), len(header))
    return pdf_stream(header + body, filters=filters, extra=extra)


OPEN_ACTION_JS = pdf(b"<< /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >> >>")
OPEN_ACTION_JS_ESCAPED = pdf(b"<< /OpenAction << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> >>")
LAUNCH = pdf(b"<< /OpenAction << /S /Launch /F (calc.exe) >> >>")
EMBEDDED_FILES = pdf(b"<< /Names << /EmbeddedFiles << /Names [(a.exe) 4 0 R] >> >> >>")
JS_IN_OBJECT_STREAM = pdf(pdf_object_stream(b"<< /S /JavaScript /JS (app.alert\\(1\\)) >>"))
CLEAN_WITH_STREAMS = pdf(
    pdf_stream(b"BT /F1 12 Tf 72 712 Td (A report on the JavaScript work) Tj ET"),
    pdf_object_stream(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"),
)


# --- ZIP ----------------------------------------------------------------------------------------


def zip_of(*entries: tuple[str | zipfile.ZipInfo, bytes]) -> bytes:
    """A ZIP archive of ``entries``, the same bytes every time (for stable test ids)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            if isinstance(name, str):
                name = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
                name.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(name, content)
    return buffer.getvalue()


def symlink(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (0o120777 << 16) | 0
    return info


@cache
def zip_bomb(expanded: int = 1 << 30) -> bytes:
    """A ZIP of about 1 MB holding one file of ``expanded`` zero bytes (1 GiB by default).

    The deflate data of 1 MiB of zeros, cut off by a full flush, is repeated, so the archive is
    made without compressing a gigabyte; its sizes and CRC are true.
    """
    block = bytes(1 << 20)
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = deflater.compress(block) + deflater.flush(zlib.Z_FULL_FLUSH)
    count = expanded // len(block)
    data = piece * count + zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    name = b"zeros.txt"
    fields = (20, 0, 8, 0, 0x21, crc, len(data), count * len(block), len(name), 0)
    local = struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields) + name
    central = struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0) + name
    end = struct.pack(
        "<4s4H2LH", b"PK\x05\x06", 0, 0, 1, 1, len(central), len(local) + len(data), 0
    )
    return local + data + central + end


# --- What every door refuses --------------------------------------------------------------------

WEB_PAGE = (
    "Web pages, SVG and XML files are refused as they are: send a PDF or an image, or put them "
    "in a ZIP archive."
)
JAVASCRIPT = (
    "This PDF contains JavaScript, which is refused: print it to a new PDF (Print to PDF) and "
    "upload that."
)


def _script(extension: str) -> str:
    return f"Programs and scripts (.{extension} files) are refused."


def hostile() -> list:
    """``pytest.param(name, content, message)`` for each file every upload door refuses."""
    cases = [
        ("x.hta", b"<hta:application/><script>run()</script>", _script("hta")),
        ("run.bat", b"@echo off\r\ndel /q *\r\n", _script("bat")),
        ("evil.html", b"<html><script>alert(1)</script></html>", WEB_PAGE),
        ("evil.svg", b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", WEB_PAGE),
        (
            "bomb.zip",
            zip_bomb(),
            "The ZIP archive expands to 1 GB; at most 100 MB is accepted once expanded.",
        ),
        (
            "escape.zip",
            zip_of(("../../evil.txt", b"x")),
            "The ZIP archive holds a path that leaves its folder (“../../evil.txt”): paths "
            "inside an archive must be relative, without “..”.",
        ),
        (
            "tools.zip",
            zip_of(("setup.exe", WINDOWS_PROGRAM)),
            "The ZIP archive holds a program (“setup.exe”); programs are refused.",
        ),
        (
            "nested.zip",
            zip_of(("inner.zip", zip_of(("a.txt", b"a")))),
            "The ZIP archive holds another archive (“inner.zip”), whose content cannot be "
            "checked: upload it as a separate file.",
        ),
        ("report.pdf", OPEN_ACTION_JS, JAVASCRIPT),
        ("escaped.pdf", OPEN_ACTION_JS_ESCAPED, JAVASCRIPT),
    ]
    return [pytest.param(*case, id=case[0]) for case in cases]
