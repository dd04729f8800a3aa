"""Looking for active content in an uploaded PDF: scripts, launched programs, files inside.

A PDF is accepted as a document to read. One that names JavaScript (``/JS``, ``/JavaScript``),
a launch action (``/Launch``), embedded files (``/EmbeddedFile``, ``/EmbeddedFiles``) or embedded
media (``/RichMedia``) is refused, wherever the name appears: these names switch those features
on, and a document never needs them.

Names are read as a PDF reader reads them, with their ``#xx`` escapes decoded (``/J#61vaScript``
is ``/JavaScript``), in the file's own bytes and in its compressed streams: since PDF 1.5 the
dictionaries themselves may sit inside compressed object streams. Every stream that can be
expanded (FlateDecode, alone or after ASCIIHexDecode or ASCII85Decode, or any stream that starts
like zlib data whatever its dictionary claims) is expanded and read, except images. The work is
capped: a file whose streams expand to more than the cap is refused as one that cannot be
checked, and so is an object stream that cannot be expanded (another filter, or encrypted).
"""

from __future__ import annotations

import base64
import re
import zlib

from .formats import human_size

_DELIMITERS = rb"\x00\t\n\x0c\r ()<>\[\]{}/%"
_NAME_WITH_ESCAPE = re.compile(rb"/[^" + _DELIMITERS + rb"]*#[^" + _DELIMITERS + rb"]*")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_FORBIDDEN = re.compile(
    rb"/(JS|JavaScript|Launch|EmbeddedFiles?|RichMedia)(?=[" + _DELIMITERS + rb"]|\Z)",
    re.IGNORECASE,
)
_PRINT_AGAIN = "print it to a new PDF (Print to PDF) and upload that"
_REFUSALS = {
    "js": f"This PDF contains JavaScript, which is refused: {_PRINT_AGAIN}.",
    "launch": f"This PDF starts a program when opened, which is refused: {_PRINT_AGAIN}.",
    "embeddedfile": (
        "This PDF has files embedded in it, which is refused: upload those files on their own, "
        "and the PDF without them."
    ),
    "richmedia": f"This PDF contains embedded media, which is refused: {_PRINT_AGAIN}.",
}
_REFUSALS["javascript"] = _REFUSALS["js"]
_REFUSALS["embeddedfiles"] = _REFUSALS["embeddedfile"]
# "stream" at the start of a stream's data; "endstream" is not one.
_STREAM = re.compile(rb"(?<![A-Za-z])stream(?:\r\n|\n|\r)")
_ENDSTREAM = b"endstream"
_FILTER = re.compile(rb"/Filter\s*(\[[^\]]*\]|/[^" + _DELIMITERS + rb"]+)")
_NAME = re.compile(rb"/([^" + _DELIMITERS + rb"]+)")
_LENGTH = re.compile(rb"/Length\s+(\d+)(?!\s+\d+\s+R)")
_FLATE = {b"FlateDecode", b"Fl"}
_ASCII_HEX = {b"ASCIIHexDecode", b"AHx"}
_ASCII_85 = {b"ASCII85Decode", b"A85"}
_PDF_WHITESPACE = b"\x00\t\n\x0c\r "
# Filters that only decode pictures (and the encryption dictionary's own /Filter /Standard).
_IMAGE_FILTERS = {
    b"DCTDecode",
    b"DCT",
    b"JPXDecode",
    b"JBIG2Decode",
    b"CCITTFaxDecode",
    b"CCF",
    b"Standard",
}


class PdfRefused(Exception):
    """Why a PDF is refused, in words for the person who uploaded it."""


class _CannotExpand(Exception):
    pass


class _OverBudget(Exception):
    pass


def check_pdf(data: bytes, *, max_expanded: int) -> None:
    """Raise PdfRefused when the PDF ``data`` may not be stored.

    ``max_expanded`` caps the bytes all its streams may expand to together.
    """
    _refuse_active_content(data)
    budget = [max_expanded]
    previous_end = 0
    for match in _STREAM.finditer(data):
        if match.start() < previous_end:
            continue  # the word inside the data of the stream before
        # The bytes since the previous stream hold this stream's dictionary whole; reading
        # every name in them, no text placed inside the dictionary hides a part of it.
        head = _decode_names(data[previous_end : match.start()])
        start = match.end()
        end = _stream_end(data, start, head)
        previous_end = end
        names = set(_NAME.findall(head))
        if b"Image" in names and b"First" not in names:
            continue  # an image's pixels name nothing
        filters = _FILTER.findall(head)
        own = _NAME.findall(filters[-1]) if filters else []
        try:
            expanded = _expand(data[start:end], own, budget)
        except _OverBudget:
            raise PdfRefused(
                "This PDF holds more compressed content than can be checked (over "
                f"{human_size(max_expanded)} once expanded): save it with smaller images "
                "or split it."
            ) from None
        except _CannotExpand:
            # An object stream must be read; one only an image filter decodes holds no object.
            object_stream = b"ObjStm" in names or {b"First", b"N"} <= names
            declared = {name for found in filters for name in _NAME.findall(found)}
            if object_stream and not declared <= _IMAGE_FILTERS:
                raise PdfRefused(
                    "This PDF's compressed objects cannot be checked (is it encrypted or "
                    "password-protected?): save it again as an ordinary PDF, for example "
                    "with Print to PDF."
                ) from None
            continue
        if expanded is not None:
            _refuse_active_content(expanded)


def _refuse_active_content(data: bytes) -> None:
    found = _FORBIDDEN.search(data)
    if found is None:
        for escaped in _NAME_WITH_ESCAPE.finditer(data):
            found = _FORBIDDEN.fullmatch(_unescape(escaped.group()))
            if found is not None:
                break
    if found is not None:
        raise PdfRefused(_REFUSALS[found.group(1).decode("ascii").lower()])


def _unescape(name: bytes) -> bytes:
    return _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), name)


def _decode_names(text: bytes) -> bytes:
    if b"#" not in text:
        return text
    return _NAME_WITH_ESCAPE.sub(lambda m: _unescape(m.group()), text)


def _stream_end(data: bytes, start: int, head: bytes) -> int:
    lengths = _LENGTH.findall(head)
    if lengths:
        end = start + int(lengths[-1])
        if data[end : end + 64].lstrip(_PDF_WHITESPACE).startswith(_ENDSTREAM):
            return end
    end = data.find(_ENDSTREAM, start)
    return len(data) if end < 0 else end


def _looks_like_zlib(data: bytes) -> bool:
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] * 256 + data[1]) % 31 == 0


def _expand(data: bytes, filters: list[bytes], budget: list[int]) -> bytes | None:
    """Return the stream's expanded bytes, or None when it holds nothing to read again."""
    if filters and all(f in _FLATE | _ASCII_HEX | _ASCII_85 for f in filters):
        for name in filters:
            if name in _FLATE:
                data = _inflate(data, budget)
            elif name in _ASCII_HEX:
                data = _spend(_ascii_hex(data), budget)
            else:
                data = _spend(_ascii_85(data), budget)
        return data
    if _looks_like_zlib(data.lstrip(_PDF_WHITESPACE)):
        # Whatever the dictionary claims, zlib data is expanded the way a reader may.
        try:
            return _inflate(data.lstrip(_PDF_WHITESPACE), budget)
        except _CannotExpand:
            pass
    if filters:
        raise _CannotExpand
    return None  # not compressed: its bytes were read with the file's


def _spend(data: bytes, budget: list[int]) -> bytes:
    budget[0] -= len(data)
    if budget[0] < 0:
        raise _OverBudget
    return data


def _inflate(data: bytes, budget: list[int]) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, budget[0] + 1)
    except zlib.error:
        raise _CannotExpand from None
    if inflater.unconsumed_tail:
        raise _OverBudget
    return _spend(out, budget)


def _ascii_hex(data: bytes) -> bytes:
    digits = bytes(b for b in data.split(b">", 1)[0] if b not in _PDF_WHITESPACE)
    if len(digits) % 2:
        digits += b"0"
    try:
        return bytes.fromhex(digits.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        raise _CannotExpand from None


def _ascii_85(data: bytes) -> bytes:
    body = data.split(b"~>", 1)[0].strip(_PDF_WHITESPACE).removeprefix(b"<~")
    try:
        return base64.a85decode(body, ignorechars=_PDF_WHITESPACE)
    except ValueError:
        raise _CannotExpand from None
