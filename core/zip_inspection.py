"""Looking inside an uploaded ZIP archive without extracting it.

An archive is accepted only when whoever opens it gets what its listing promises: a bounded
number of entries and of bytes once expanded (no "zip bomb"), every path inside its own folder
(no ``../`` or absolute path, no symbolic link), no archive inside the archive (its content could
not be checked in turn), no program, and no PDF that would be refused on its own. Each entry is
read through to its end, within the expanded-size limit, so that its CRC is verified: an entry
whose data does not match its listing is refused as damaged. Nothing is written to disk; a PDF
inside is read into memory to be checked.
"""

from __future__ import annotations

import re
import stat
import zipfile
from typing import IO

from .formats import human_size
from .pdf_inspection import PdfRefused, check_pdf

# Programs and scripts an operating system runs when they are opened (Windows above all),
# and packages that install them. Source code a developer reads (.js, .py, .sh) is not here:
# delivering a project's sources in a ZIP is ordinary work.
# fmt: off
EXECUTABLE_EXTENSIONS = frozenset({
    "exe", "com", "scr", "pif", "cpl", "dll", "sys", "ocx", "msi", "msp", "mst", "msix",
    "msixbundle", "appx", "appxbundle", "bat", "cmd", "hta", "vbs", "vbe", "jse", "wsf", "wsh",
    "wsc", "ps1", "psm1", "psd1", "lnk", "reg", "scf", "inf", "chm", "jar", "apk", "app", "ipa",
    "dmg", "pkg", "deb", "rpm", "run", "gadget", "application", "appref-ms", "settingcontent-ms",
})
ARCHIVE_EXTENSIONS = frozenset({
    "zip", "zipx", "rar", "7z", "tar", "gz", "tgz", "bz2", "tbz", "tbz2", "xz", "txz", "zst",
    "lz", "lzma", "z", "cab", "iso", "img", "arj", "war", "ear",
})
# fmt: on
_ARCHIVE_MAGIC = (
    b"PK\x03\x04",
    b"PK\x05\x06",
    b"PK\x07\x08",
    b"Rar!\x1a\x07",
    b"7z\xbc\xaf\x27\x1c",
    b"\x1f\x8b",
    b"BZh",
    b"\xfd7zXZ\x00",
    b"\x28\xb5\x2f\xfd",
    b"MSCF",
)
_PROGRAM_MAGIC = (
    b"\x7fELF",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\xca\xfe\xba\xbe",
)
_HEAD = 4096
_CHUNK = 64 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")


class ZipRefused(Exception):
    """Why an archive is refused, in words for the person who uploaded it."""


def extension(name: str) -> str:
    """The last extension of ``name``, lower case, as Windows reads it ("a.EXE. " → "exe")."""
    stem = name.rstrip(". ")
    return stem.rsplit(".", 1)[1].lower() if "." in stem else ""


def check_zip(
    file: IO[bytes], *, max_entries: int, max_expanded: int, pdf_max_expanded: int
) -> None:
    """Raise ZipRefused when the archive in ``file`` may not be stored.

    A PDF inside is checked as an uploaded PDF is (``pdf_max_expanded``: see check_pdf).
    """
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if len(entries) > max_entries:
                raise ZipRefused(
                    f"The ZIP archive holds {len(entries)} entries; at most {max_entries} "
                    "are accepted."
                )
            declared = sum(entry.file_size for entry in entries)
            if declared > max_expanded:
                raise ZipRefused(
                    f"The ZIP archive expands to {human_size(declared)}; at most "
                    f"{human_size(max_expanded)} is accepted once expanded."
                )
            for entry in entries:
                _check_entry(archive, entry, pdf_max_expanded)
    except ZipRefused:
        raise
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        NotImplementedError,
        EOFError,
        OSError,
        RuntimeError,
        ValueError,
    ):
        # RuntimeError: an encrypted entry; NotImplementedError: an unknown compression.
        raise ZipRefused("This ZIP archive is damaged or cannot be read.") from None
    finally:
        file.seek(0)


def _check_entry(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, pdf_max_expanded: int) -> None:
    raw = entry.orig_filename
    shown = raw if len(raw) <= 80 else raw[:77] + "…"
    parts = re.split(r"[\\/]", raw)
    if (
        raw.startswith(("/", "\\"))
        or _DRIVE.match(raw)
        or ".." in parts
        or any(not ch.isprintable() for ch in raw)
    ):
        raise ZipRefused(
            f"The ZIP archive holds a path that leaves its folder (“{shown}”): paths inside "
            "an archive must be relative, without “..”."
        )
    if entry.create_system == 3 and stat.S_ISLNK(entry.external_attr >> 16):
        raise ZipRefused(f"The ZIP archive holds a symbolic link (“{shown}”), which is refused.")
    if entry.flag_bits & 0x1:
        raise ZipRefused(
            "The ZIP archive is password-protected, so its content cannot be checked: upload "
            "it without a password."
        )
    # A macOS application is a folder named *.app; any other folder may be named like a
    # domain ("example.com/") or anything else.
    if any(extension(part) == "app" for part in parts[:-1]):
        raise _program(shown)
    if entry.is_dir():
        return
    if extension(raw) in EXECUTABLE_EXTENSIONS:
        raise _program(shown)
    if extension(raw) in ARCHIVE_EXTENSIONS:
        raise _nested(shown)
    with archive.open(entry) as data:
        head = data.read(_HEAD)
        if head.startswith(_ARCHIVE_MAGIC) or head[257:262] == b"ustar":
            raise _nested(shown)
        if head.startswith(_PROGRAM_MAGIC) or (head.startswith(b"MZ") and not _is_text(head)):
            raise _program(shown)
        if head.startswith(b"%PDF-"):
            try:
                check_pdf(head + data.read(), max_expanded=pdf_max_expanded)
            except PdfRefused as refused:
                raise ZipRefused(f"In the ZIP archive, “{shown}”: {refused}") from None
        # Reading to the end verifies the CRC; zipfile never reads past the declared size.
        while data.read(_CHUNK):
            pass


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # A multi-byte character cut at the end of the head is still text.
        return error.start >= len(head) - 3 and b"\x00" not in head
    return b"\x00" not in head


def _program(shown: str) -> ZipRefused:
    return ZipRefused(f"The ZIP archive holds a program (“{shown}”); programs are refused.")


def _nested(shown: str) -> ZipRefused:
    return ZipRefused(
        f"The ZIP archive holds another archive (“{shown}”), whose content cannot be checked: "
        "upload it as a separate file."
    )
