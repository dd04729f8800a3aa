import io
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from core.uploads import check_upload, check_uploads, download_name
from tests import upload_samples as samples

PNG = samples.PNG_BYTES
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ZIP = samples.zip_of(("notes.txt", b"hello"), ("docs/report.pdf", samples.PDF_BYTES))


class TestCheckUpload:
    @pytest.mark.parametrize(
        ("name", "content", "content_type"),
        [
            ("contract.pdf", b"%PDF-1.4\n%...", "application/pdf"),
            ("screen.png", PNG, "image/png"),
            ("photo.jpeg", JPEG, "image/jpeg"),
            ("sources.zip", ZIP, "application/zip"),
            ("notes.txt", "Délai dépassé: 5 jours\n".encode(), "text/plain"),
        ],
    )
    def test_accepts_allowed_types_by_content(self, name, content, content_type):
        checked = check_upload(SimpleUploadedFile(name, content))

        assert checked.content_type == content_type
        assert checked.size == len(content)
        assert len(checked.sha256) == 64

    def test_judges_by_content_not_by_name(self):
        checked = check_upload(SimpleUploadedFile("looks-like.txt", PNG))

        assert checked.content_type == "image/png"
        assert checked.extension == ".png"

    @pytest.mark.parametrize(
        "content",
        [
            b"MZ\x90\x00binary",
            b"\x7fELF\x02\x01\x01",
            b"text with a NUL \x00 inside",
            b"\xff\xfe\xfa",
        ],
    )
    def test_refuses_other_content(self, content):
        with pytest.raises(InvalidInput) as error:
            check_upload(SimpleUploadedFile("harmless.pdf", content))

        assert error.value.code == "invalid_file"

    def test_refuses_a_file_over_the_size_limit(self, settings):
        settings.UPLOAD_MAX_BYTES = 1024

        with pytest.raises(InvalidInput) as error:
            check_upload(SimpleUploadedFile("big.txt", b"a" * 1025))

        assert error.value.fields == {"file": ["Each file may be at most 1 KB."]}

    def test_refuses_an_empty_file(self):
        with pytest.raises(InvalidInput):
            check_upload(SimpleUploadedFile("empty.txt", b""))

    @pytest.mark.parametrize("name", ["a\\b.txt", "C:\\Users\\x.txt", ".hidden", "tab\there.txt"])
    def test_refuses_a_name_with_path_parts_or_control_characters(self, name):
        upload = SimpleUploadedFile("x.txt", b"hello")
        upload.name = name  # Django itself already refuses names with "/" or ".."

        with pytest.raises(InvalidInput) as error:
            check_upload(upload)

        assert "plain name" in error.value.message

    def test_refuses_too_many_files(self, settings):
        settings.UPLOAD_MAX_FILES = 2
        files = [SimpleUploadedFile(f"{i}.txt", b"hi") for i in range(3)]

        with pytest.raises(InvalidInput) as error:
            check_uploads(files)

        assert error.value.fields == {"files": ["At most 2 files may be attached."]}


def refusal(name: str, content: bytes) -> str:
    """The one message check_upload refuses the file with."""
    with pytest.raises(InvalidInput) as error:
        check_upload(SimpleUploadedFile(name, content))
    assert error.value.code == "invalid_file"
    assert error.value.fields == {"file": [error.value.message]}
    return error.value.message


class TestNamesAndTypes:
    def test_keeps_a_program_name_only_for_display_and_gives_the_type_its_content_proved(self):
        checked = check_upload(SimpleUploadedFile("setup.exe", samples.PDF_BYTES))

        assert checked.name == "setup.exe"
        assert checked.content_type == "application/pdf"
        assert checked.storage_name("evidence").endswith(".pdf")
        assert download_name("evidence", 12, checked.content_type) == "evidence-12.pdf"

    @pytest.mark.parametrize(
        ("name", "message"),
        [
            ("x.hta", "Programs and scripts (.hta files) are refused."),
            ("run.bat", "Programs and scripts (.bat files) are refused."),
            ("install.CMD", "Programs and scripts (.cmd files) are refused."),
            ("macro.vbs", "Programs and scripts (.vbs files) are refused."),
            ("report.pdf.exe", "Programs and scripts (.exe files) are refused."),
            ("trailing.bat. ", "Programs and scripts (.bat files) are refused."),
        ],
    )
    def test_refuses_text_named_as_a_program_or_script(self, name, message):
        assert refusal(name, b"@echo off\r\ndel /q *\r\n") == message

    @pytest.mark.parametrize("name", ["evil.html", "evil.HTM", "evil.svg", "feed.xml"])
    def test_refuses_text_named_as_a_web_page_or_svg(self, name):
        message = refusal(name, b"hello")

        assert message.startswith("Web pages, SVG and XML files are refused")

    @pytest.mark.parametrize(
        "content",
        [
            b"<!DOCTYPE html><html><script>alert(1)</script></html>",
            b"\xef\xbb\xbf  \n<HTML><body>hi</body></HTML>",
            b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
            b"<?xml version='1.0'?><svg/>",
            b"<script>alert(1)</script>",
            b"<!-- a comment first --><div>x</div>",
        ],
    )
    def test_refuses_text_that_starts_as_html_svg_or_xml_whatever_its_name(self, content):
        message = refusal("notes.txt", content)

        assert message.startswith("Web pages, SVG and XML files are refused")

    def test_accepts_text_that_only_mentions_markup(self):
        content = b"Delivered the page; the client asked for a <b>bold</b> title.\n"

        assert check_upload(SimpleUploadedFile("notes.txt", content)).content_type == "text/plain"

    def test_judges_a_dangerous_name_by_content_when_the_content_proves_a_type(self):
        checked = check_upload(SimpleUploadedFile("evil.svg", PNG))

        assert (checked.content_type, checked.extension) == ("image/png", ".png")

    @pytest.mark.parametrize(
        ("content", "extension"),
        [
            (samples.PDF_BYTES, ".pdf"),
            (PNG, ".png"),
            (JPEG, ".jpg"),
            (ZIP, ".zip"),
            (b"hi", ".txt"),
        ],
    )
    def test_stores_under_a_generated_name_with_the_extension_of_the_type(self, content, extension):
        checked = check_upload(SimpleUploadedFile("anything.dat", content))

        stored = checked.storage_name("evidence")
        assert stored.startswith("evidence/") and stored.endswith(extension)
        assert "anything" not in stored


class TestZipArchives:
    def test_refuses_a_small_archive_that_expands_to_a_gigabyte(self):
        bomb = samples.zip_bomb()
        assert len(bomb) < 1_100_000

        message = refusal("bomb.zip", bomb)

        assert message == (
            "The ZIP archive expands to 1 GB; at most 100 MB is accepted once expanded."
        )

    def test_takes_the_expanded_limit_from_the_settings(self, settings):
        settings.UPLOAD_ZIP_MAX_EXPANDED_BYTES = 4 * 1024 * 1024

        message = refusal("zeros.zip", samples.zip_bomb(8 * 1024 * 1024))

        assert message == "The ZIP archive expands to 8 MB; at most 4 MB is accepted once expanded."

    def test_refuses_more_entries_than_the_setting_allows(self, settings):
        settings.UPLOAD_ZIP_MAX_ENTRIES = 3
        archive = samples.zip_of(*[(f"{i}.txt", b"x") for i in range(4)])

        message = refusal("many.zip", archive)

        assert message == "The ZIP archive holds 4 entries; at most 3 are accepted."

    @pytest.mark.parametrize(
        "path",
        [
            "../evil.txt",
            "docs/../../evil.txt",
            "/etc/cron.d/evil",
            "C:/Windows/evil.txt",
            "..\\..\\evil.txt",
            "\\\\server\\share\\evil.txt",
        ],
    )
    def test_refuses_a_path_that_leaves_the_archive_folder(self, path):
        message = refusal("paths.zip", samples.zip_of(("ok.txt", b"fine"), (path, b"x")))

        assert "holds a path that leaves its folder" in message
        assert "must be relative, without “..”" in message

    def test_refuses_a_symbolic_link(self):
        message = refusal("link.zip", samples.zip_of((samples.symlink("etc"), b"/etc")))

        assert message == "The ZIP archive holds a symbolic link (“etc”), which is refused."

    @pytest.mark.parametrize(
        ("path", "content"),
        [
            ("inner.zip", samples.zip_of(("a.txt", b"a"))),
            ("renamed.txt", samples.zip_of(("a.txt", b"a"))),
            ("backup.tar.gz", b"\x1f\x8b\x08\x00" + bytes(20)),
            ("data.bin", b"Rar!\x1a\x07\x00" + bytes(20)),
            ("archive.7z", b"whatever"),
        ],
    )
    def test_refuses_an_archive_inside_the_archive(self, path, content):
        message = refusal("nested.zip", samples.zip_of((path, content)))

        assert message.startswith(f"The ZIP archive holds another archive (“{path}”)")
        assert message.endswith("upload it as a separate file.")

    @pytest.mark.parametrize(
        ("path", "content"),
        [
            ("setup.exe", samples.PDF_BYTES),
            ("tools/run.BAT", b"@echo off"),
            ("x.hta", b"<html></html>"),
            ("Installer.app/Contents/MacOS/Installer", b"#!/bin/sh"),
            ("invoice.pdf", samples.WINDOWS_PROGRAM),
            ("bin/tool", samples.LINUX_PROGRAM),
        ],
    )
    def test_refuses_a_program_inside_the_archive(self, path, content):
        message = refusal("work.zip", samples.zip_of(("readme.txt", b"hi"), (path, content)))

        assert message.startswith("The ZIP archive holds a program (")
        assert message.endswith("programs are refused.")

    def test_accepts_source_code_and_text_that_starts_with_mz(self):
        archive = samples.zip_of(
            ("example.com/index.html", b"<html></html>"),
            ("site/app.js", b"console.log(1)"),
            ("deploy.sh", b"#!/bin/sh\necho hi\n"),
            ("notes/MZ.txt", b"MZ is the name of the studio."),
        )

        assert check_upload(SimpleUploadedFile("site.zip", archive)).content_type == (
            "application/zip"
        )

    def test_refuses_a_password_protected_archive(self):
        archive = bytearray(samples.zip_of(("secret.txt", b"x")))
        # Mark the entry encrypted in its local and central headers (general purpose bit 0).
        for header in (b"PK\x03\x04", b"PK\x01\x02"):
            at = archive.index(header) + (6 if header == b"PK\x03\x04" else 8)
            archive[at] |= 0x01

        message = refusal("secret.zip", bytes(archive))

        assert message.startswith("The ZIP archive is password-protected")

    @pytest.mark.parametrize(
        "content",
        [
            b"PK\x03\x04" + b"\x00" * 32,
            samples.zip_of(("a.txt", b"a" * 1000))[:-30],
        ],
        ids=["only-a-signature", "cut-short"],
    )
    def test_refuses_an_archive_that_cannot_be_read(self, content):
        assert refusal("broken.zip", content) == "This ZIP archive is damaged or cannot be read."

    def test_refuses_an_entry_whose_data_does_not_match_its_checksum(self):
        archive = bytearray(samples.zip_of(("a.txt", b"a" * 1000)))
        with zipfile.ZipFile(io.BytesIO(bytes(archive))) as zipped:
            crc = zipped.getinfo("a.txt").CRC.to_bytes(4, "little")
        for at in [i for i in range(len(archive) - 3) if archive[i : i + 4] == crc]:
            archive[at] ^= 0xFF

        assert (
            refusal("lies.zip", bytes(archive)) == "This ZIP archive is damaged or cannot be read."
        )


class TestPdfs:
    @pytest.mark.parametrize(
        "content",
        [samples.OPEN_ACTION_JS, samples.OPEN_ACTION_JS_ESCAPED, samples.JS_IN_OBJECT_STREAM],
        ids=["open-action", "hex-escaped-names", "in-a-compressed-object-stream"],
    )
    def test_refuses_javascript(self, content):
        assert refusal("report.pdf", content) == (
            "This PDF contains JavaScript, which is refused: print it to a new PDF (Print to "
            "PDF) and upload that."
        )

    @pytest.mark.parametrize(
        "name",
        [b"/#4A#53", b"/#4a#53", b"/JavaScrip#74", b"/#4A#61#76#61#53#63#72#69#70#74"],
    )
    def test_reads_names_written_with_hex_escapes(self, name):
        content = samples.pdf(b"<< /OpenAction << /S /Named " + name + b" (x) >> >>")

        assert refusal("report.pdf", content).startswith("This PDF contains JavaScript")

    def test_refuses_a_launch_action(self):
        assert refusal("report.pdf", samples.LAUNCH).startswith(
            "This PDF starts a program when opened, which is refused"
        )

    @pytest.mark.parametrize(
        "content",
        [
            samples.EMBEDDED_FILES,
            samples.pdf(samples.pdf_stream(b"MZ...", extra=b"/Type /EmbeddedFile ")),
            samples.pdf(b"<< /Names << /Embedded#46iles 4 0 R >> >>"),
        ],
    )
    def test_refuses_embedded_files(self, content):
        assert refusal("report.pdf", content).startswith("This PDF has files embedded in it")

    def test_finds_javascript_in_streams_behind_ascii_and_flate_filters(self):
        content = samples.pdf(
            samples.pdf_stream(
                zlib.compress(b"<< /S /JavaScript /JS (x) >>").hex().encode() + b">",
                filters=b"[/AHx /FlateDecode]",
                extra=b"/Type /ObjStm /N 1 /First 4 ",
            )
        )

        assert refusal("report.pdf", content).startswith("This PDF contains JavaScript")

    def test_finds_javascript_in_zlib_data_whatever_the_filter_says(self):
        content = samples.pdf(
            samples.pdf_stream(b"<< /S /JavaScript /JS (x) >>").replace(
                b"/FlateDecode", b"/DCTDecode"
            )
        )

        assert refusal("report.pdf", content).startswith("This PDF contains JavaScript")

    def test_refuses_an_object_stream_it_cannot_expand(self):
        lzw_data = bytes(range(1, 250))
        content = samples.pdf(
            samples.pdf_stream(
                lzw_data, filters=b"/LZWDecode", extra=b"/Type /ObjStm /N 1 /First 5 "
            )
        )

        assert refusal("report.pdf", content).startswith(
            "This PDF's compressed objects cannot be checked"
        )

    def test_refuses_more_compressed_content_than_it_may_expand(self, settings):
        settings.UPLOAD_PDF_MAX_EXPANDED_BYTES = 1024 * 1024
        content = samples.pdf(samples.pdf_stream(b" " * (2 * 1024 * 1024)))

        assert refusal("report.pdf", content).startswith(
            "This PDF holds more compressed content than can be checked (over 1 MB"
        )

    def test_accepts_an_ordinary_pdf_with_compressed_streams(self):
        checked = check_upload(SimpleUploadedFile("report.pdf", samples.CLEAN_WITH_STREAMS))

        assert checked.content_type == "application/pdf"

    def test_skips_image_data(self, settings):
        settings.UPLOAD_PDF_MAX_EXPANDED_BYTES = 1024
        image = samples.pdf_stream(bytes(64 * 1024), extra=b"/Subtype /Image /Width 256 ")

        assert check_upload(SimpleUploadedFile("scan.pdf", samples.pdf(image))).size > 0

    @pytest.mark.parametrize(
        "stream",
        [
            samples.pdf_stream(b"\xff\xd8\xff\xe0" + bytes(64), filters=b"/DCTDecode"),
            samples.pdf_stream(bytes(range(1, 250)), filters=b"/LZWDecode"),
        ],
        ids=["jpeg-image", "old-lzw-page"],
    )
    def test_accepts_streams_it_cannot_expand_that_hold_no_objects(self, stream):
        checked = check_upload(SimpleUploadedFile("scan.pdf", samples.pdf(stream)))

        assert checked.content_type == "application/pdf"


class TestPdfsInsideZips:
    def test_refuses_a_zip_holding_a_pdf_with_javascript(self):
        archive = samples.zip_of(("docs/report.pdf", samples.OPEN_ACTION_JS_ESCAPED))

        assert refusal("docs.zip", archive) == (
            "In the ZIP archive, “docs/report.pdf”: This PDF contains JavaScript, which is "
            "refused: print it to a new PDF (Print to PDF) and upload that."
        )

    def test_accepts_a_zip_holding_ordinary_pdfs(self):
        archive = samples.zip_of(
            ("a.pdf", samples.CLEAN_WITH_STREAMS), ("b.pdf", samples.PDF_BYTES)
        )

        assert check_upload(SimpleUploadedFile("docs.zip", archive)).content_type == (
            "application/zip"
        )
