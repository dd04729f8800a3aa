import os
import runpy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

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


def settings_module(monkeypatch, **env: str) -> dict:
    """The settings module as it reads ``env`` (and no cache variables besides)."""
    for name in ("REDIS_URL", "CACHE_URL", "DJANGO_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(ROOT / "config" / "settings.py"))


class TestSharedCache:
    def test_is_a_table_of_the_database_by_default(self, monkeypatch):
        cache = settings_module(monkeypatch)["CACHES"]["default"]

        assert cache["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
        assert cache["LOCATION"] == "django_cache"

    @pytest.mark.parametrize("name", ["REDIS_URL", "CACHE_URL"])
    def test_is_redis_when_a_url_names_one(self, monkeypatch, name):
        cache = settings_module(monkeypatch, **{name: "redis://cache.internal:6379/2"})["CACHES"]

        assert cache["default"] == {
            "BACKEND": "core.cache.RedisCache",
            "LOCATION": "redis://cache.internal:6379/2",
        }

    def test_refuses_a_url_that_is_not_redis(self, monkeypatch):
        with pytest.raises(ImproperlyConfigured, match="CACHE_URL='memcached://m:11211'"):
            settings_module(monkeypatch, CACHE_URL="memcached://m:11211")


class TestLoginLockoutSettings:
    def test_lock_out_after_5_failures_for_15_minutes_by_default(self, monkeypatch):
        module = settings_module(monkeypatch)

        assert module["AXES_FAILURE_LIMIT"] == 5
        assert module["AXES_COOLOFF_TIME"] == timedelta(minutes=15)
        assert module["AXES_LOCKOUT_PARAMETERS"] == ["username", "ip_address"]

    def test_read_the_limit_and_the_period_from_the_environment(self, monkeypatch):
        module = settings_module(monkeypatch, LOGIN_FAILURE_LIMIT="10", LOGIN_LOCKOUT_PERIOD="1h")

        assert module["AXES_FAILURE_LIMIT"] == 10
        assert module["AXES_COOLOFF_TIME"] == timedelta(hours=1)

    def test_trust_one_proxy_in_production_and_none_locally(self, monkeypatch):
        local = settings_module(monkeypatch)
        production = settings_module(monkeypatch, **PRODUCTION)

        assert local["REST_FRAMEWORK"]["NUM_PROXIES"] == 0
        assert production["REST_FRAMEWORK"]["NUM_PROXIES"] == 1


class TestCheapRequests:
    def test_keep_sessions_in_the_cache_with_the_database_behind_it(self, monkeypatch):
        module = settings_module(monkeypatch)

        assert module["SESSION_ENGINE"] == "django.contrib.sessions.backends.cached_db"
        assert module["SESSION_CACHE_ALIAS"] == "default"

    def test_keep_checked_connections_in_production_and_none_locally(self, monkeypatch):
        local = settings_module(monkeypatch)["DATABASES"]["default"]
        production = settings_module(monkeypatch, **PRODUCTION)["DATABASES"]["default"]

        assert local["CONN_MAX_AGE"] == 0
        assert production["CONN_MAX_AGE"] == 600
        assert production["CONN_HEALTH_CHECKS"] is True

    def test_read_the_connection_settings_from_the_environment(self, monkeypatch):
        env = {**PRODUCTION, "DB_CONN_MAX_AGE": "60", "DB_CONN_HEALTH_CHECKS": "false"}

        database = settings_module(monkeypatch, **env)["DATABASES"]["default"]

        assert database["CONN_MAX_AGE"] == 60
        assert database["CONN_HEALTH_CHECKS"] is False
