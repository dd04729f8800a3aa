import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3Jx9!vQ2mW8#pLr5tYb7@nC4hZs6dGf1aEu0oIi-production-test-key",
    "ALLOWED_HOSTS": "disputes.example.com",
}


class TestProductionSettings:
    def test_check_deploy_reports_nothing(self):
        result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)

        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout

    def test_refuses_to_start_without_a_secret_key(self):
        env = {**PRODUCTION, "SECRET_KEY": ""}

        result = manage("check", env=env)

        assert result.returncode != 0
        assert "SECRET_KEY must be set when DJANGO_ENV=production" in result.stderr

    @pytest.mark.parametrize(
        "name", ["SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE"]
    )
    def test_switches_on_the_hardening(self, name):
        result = manage(
            "shell",
            "-c",
            f"from django.conf import settings; print(settings.{name})",
            env=PRODUCTION,
        )

        assert result.stdout.strip().splitlines()[-1] == "True"


class TestLocalDefaults:
    def test_run_on_sqlite_with_an_embedded_broker(self):
        env = {"DATABASE_URL": "", "CELERY_BROKER_URL": "", "DJANGO_ENV": ""}
        code = (
            "from django.conf import settings; db = settings.DATABASES['default']; "
            "print(db['ENGINE'], settings.CELERY_BROKER_URL, settings.DEBUG)"
        )

        result = manage("shell", "-c", code, env=env)

        assert result.stdout.strip().splitlines()[-1] == (
            "django.db.backends.sqlite3 filesystem://localhost// True"
        ), result.stderr
