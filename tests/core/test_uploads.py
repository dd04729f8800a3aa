import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from core.uploads import check_upload, check_uploads

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
ZIP = b"PK\x03\x04" + b"\x00" * 32


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

