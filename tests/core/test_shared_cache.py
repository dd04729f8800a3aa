"""The API's rate limits hold across processes: their counters live in a cache every process shares.

Each web process has a cache client of its own. Two clients — two backend instances, then two
real processes — share one limit here, and together they let no more requests through than it
allows. The database cache is tried always; Redis when REDIS_URL (or a redis:// CACHE_URL or
CELERY_BROKER_URL) names a server that answers, and is skipped with the reason otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import connection
from django.test import RequestFactory

from core.api_defaults import AnonRateThrottle  # the API's, with its compact log
from core.apps import create_cache_table
from core.cache import RedisCache  # the backend production uses

ROOT = Path(__file__).resolve().parents[2]
CACHE_TABLE = "django_cache"


def redis_url() -> str | None:
    """A Redis server named by the environment that answers, if any."""
    for name in ("REDIS_URL", "CACHE_URL", "CELERY_BROKER_URL"):
        url = os.environ.get(name, "")
        if url.startswith(("redis://", "rediss://")):
            try:
                RedisCache(url, {}).get("ping")
            except Exception:  # any failure to connect means: skip
                return None
            return url
    return None


def needs_redis() -> str:
    url = redis_url()
    if url is None:
        pytest.skip(
            "needs Redis: set REDIS_URL=redis://… (a redis:// CELERY_BROKER_URL will do) "
            "to a server that answers"
        )
    return url


def namespace() -> str:
    """A key prefix no other test or test run uses."""
    return f"test-{uuid.uuid4().hex}"


class ThreePerMinute(AnonRateThrottle):
    rate = "3/min"


def throttle_on(cache) -> ThreePerMinute:
    """The API's per-address throttle, counting in ``cache``: one process's view of the limit."""
    throttle = ThreePerMinute()
    throttle.cache = cache
    return throttle


def anonymous_request(address: str = "203.0.113.7"):
    request = RequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR=address)
    request.user = AnonymousUser()
    return request


def alternate(first, second, times: int) -> list[bool]:
    """Send ``times`` requests by turns through ``first`` and ``second``: which got through."""
    request = anonymous_request()
    return [
        (first if turn % 2 == 0 else second).allow_request(request, view=None)
        for turn in range(times)
    ]


def database_cache(settings, table: str) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": table}
    }


@pytest.fixture
def cache_table(db, settings) -> str:
    """The database cache's table, as every ``migrate`` makes it (none when the cache is Redis)."""
    database_cache(settings, CACHE_TABLE)
    create_cache_table(using="default")
    return CACHE_TABLE


class TestTwoCacheClients:
    def test_two_database_cache_clients_hold_one_limit_together(self, cache_table):
        prefix = namespace()
        first = DatabaseCache(cache_table, {"KEY_PREFIX": prefix})
        second = DatabaseCache(cache_table, {"KEY_PREFIX": prefix})

        allowed = alternate(throttle_on(first), throttle_on(second), 6)

        assert allowed == [True, True, True, False, False, False]

    def test_two_redis_cache_clients_hold_one_limit_together(self):
        url = needs_redis()
        prefix = namespace()
        first = RedisCache(url, {"KEY_PREFIX": prefix})
        second = RedisCache(url, {"KEY_PREFIX": prefix})

        allowed = alternate(throttle_on(first), throttle_on(second), 6)

        assert allowed == [True, True, True, False, False, False]

    def test_a_cache_of_each_process_own_would_let_the_limit_through_twice(self):
        # What the shared cache replaces: each process counted alone.
        first = LocMemCache(namespace(), {})
        second = LocMemCache(namespace(), {})

        allowed = alternate(throttle_on(first), throttle_on(second), 6)

        assert allowed == [True] * 6


class TestCompactLog:
    def test_keeps_the_request_times_as_an_array_and_limits_as_before(self):
        from array import array

        cache = LocMemCache(namespace(), {})
        throttle = throttle_on(cache)
        request = anonymous_request()

        allowed = [throttle.allow_request(request, view=None) for _ in range(4)]

        assert allowed == [True, True, True, False]
        kept = cache.get(throttle.get_cache_key(request, view=None))
        assert isinstance(kept, array) and len(kept) == 3
        assert list(kept) == sorted(kept, reverse=True)  # newest first, as the framework keeps it
        assert 0 < throttle.wait() <= 60


class TestRedisClient:
    def test_one_client_serves_every_command(self):
        url = needs_redis()
        cache = RedisCache(url, {"KEY_PREFIX": namespace()})

        cache.set("a", 1)
        cache.set_many({"b": [2], "c": "3"})

        assert cache.get_many(["a", "b", "c"]) == {"a": 1, "b": [2], "c": "3"}
        assert cache._cache.get_client() is cache._cache.get_client(write=True)
        assert len(cache._cache._clients) == 1


class TestTheCacheTable:
    def test_migrate_makes_the_table_of_a_database_cache_when_it_is_missing(self, db, settings):
        database_cache(settings, "cache_made_by_migrate")

        create_cache_table(using="default")
        create_cache_table(using="default")  # and leaves it be when it is there

        assert "cache_made_by_migrate" in connection.introspection.table_names()


# --- Two real processes, on a database made by a plain `migrate` ----------------------------------

# One process of the web app: it sends requests to the token endpoint from one address and
# prints the status of each.
PROCESS = """
import sys
import django

django.setup()
from django.test import Client

client = Client(REMOTE_ADDR=sys.argv[1])
answers = [
    client.post("/api/v1/auth/token/", {}, content_type="application/json").status_code
    for _ in range(int(sys.argv[2]))
]
print(" ".join(map(str, answers)))
"""


@pytest.fixture(scope="module")
def fresh_database(tmp_path_factory) -> str:
    """A new SQLite database after a plain ``migrate``, as on a fresh clone."""
    url = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'db.sqlite3'}"
    result = run(["manage.py", "migrate", "--noinput"], env={"DATABASE_URL": url})
    assert result.returncode == 0, result.stdout + result.stderr
    return url


def run(args: list[str], *, env: dict[str, str]) -> subprocess.CompletedProcess:
    base = {
        name: value
        for name, value in os.environ.items()
        if name not in {"REDIS_URL", "CACHE_URL", "DJANGO_ENV", "DATABASE_URL"}
    }
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def two_processes(env: dict[str, str]) -> tuple[list[str], list[str]]:
    """Two processes, one after the other, each sending two requests from the same new address."""
    address = "10.{}.{}.{}".format(*uuid.uuid4().bytes[:3])
    env = {**env, "API_THROTTLE_ANON": "3/min"}
    answers = []
    for _ in range(2):
        result = run(["-c", PROCESS, address, "2"], env=env)
        assert result.returncode == 0, result.stderr
        answers.append(result.stdout.split())
    return answers[0], answers[1]


class TestTwoProcesses:
    def test_a_fresh_database_cache_holds_the_limit_across_processes(self, fresh_database):
        first, second = two_processes({"DATABASE_URL": fresh_database})

        assert first == ["400", "400"]
        assert second == ["400", "429"]

    def test_redis_holds_the_limit_across_processes(self, fresh_database):
        url = needs_redis()

        first, second = two_processes({"DATABASE_URL": fresh_database, "REDIS_URL": url})

        assert first == ["400", "400"]
        assert second == ["400", "429"]
