"""``GET /healthz`` (API.md, "Health"): 200 when all is well, 503 when the database or the broker
cannot be reached or no deadline sweep finished within three sweep intervals."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import OperationalError
from django.test import Client

from config import celery_app
from core import health
from core.sweeps import sweep_run_record
from core.tasks import enforce_deadlines
from tests import kit

pytestmark = pytest.mark.django_db

SWEPT_AT = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


def swept(at: datetime = SWEPT_AT) -> None:
    sweep_run_record(name="deadlines", started_at=at, finished_at=at, handled=0)


def healthz():
    return Client().get("/healthz")


class TestHealthz:
    def test_answers_200_when_all_is_well(self):
        swept()

        with time_machine.travel(SWEPT_AT + timedelta(seconds=30), tick=False):
            response = healthz()

        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "database": "ok",
            "broker": "ok",
            "last_sweep_at": "2026-03-02T09:30:00Z",
        }

    def test_needs_no_login_and_is_never_cached(self):
        swept()

        with time_machine.travel(SWEPT_AT, tick=False):
            response = healthz()

        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "max-age=0" in response["Cache-Control"]

    def test_a_load_balancer_probing_by_address_over_http_gets_the_answer(self, settings):
        settings.ALLOWED_HOSTS = ["disputes.example.com"]
        settings.SECURE_SSL_REDIRECT = True
        swept()

        with time_machine.travel(SWEPT_AT, tick=False):
            probe = Client().get("/healthz", HTTP_HOST="10.0.3.7:8000")
            page = Client().get("/login/", HTTP_HOST="10.0.3.7:8000")
            elsewhere = Client().get("/login/", HTTP_HOST="disputes.example.com")

        assert probe.status_code == 200, probe.content
        assert probe.json()["status"] == "ok"
        assert page.status_code == 400  # every other path keeps the host check …
        assert elsewhere.status_code == 301  # … and the redirect to HTTPS

    def test_only_reads(self):
        swept()

        with time_machine.travel(SWEPT_AT, tick=False):
            response = Client().post("/healthz")

        assert response.status_code == 405

    def test_the_beat_task_records_each_deadline_sweep(self):
        enforce_deadlines()

        response = healthz()

        assert response.status_code == 200, response.json()
        assert response.json()["last_sweep_at"].endswith("Z")

    def test_answers_503_when_the_broker_cannot_be_reached(self, broker_down):
        swept()

        with time_machine.travel(SWEPT_AT, tick=False):
            response = healthz()

        assert response.status_code == 503
        assert response.json() == {
            "status": "failing",
            "database": "ok",
            "broker": "unreachable",
            "last_sweep_at": "2026-03-02T09:30:00Z",
        }

    def test_answers_503_when_the_file_system_brokers_folders_are_missing(self, tmp_path):
        swept()
        missing = str(tmp_path / "gone")

        with (
            kit.broker_unreachable("filesystem://localhost//"),
            time_machine.travel(SWEPT_AT, tick=False),
        ):
            celery_app.conf.broker_transport_options = {
                "data_folder_in": missing,
                "data_folder_out": missing,
            }
            response = healthz()

        assert response.status_code == 503
        assert response.json()["broker"] == "unreachable"

    def test_answers_503_when_the_database_cannot_be_reached(self, monkeypatch):
        def unreachable(name):
            raise OperationalError("connection refused")

        monkeypatch.setattr(health, "last_finished", unreachable)

        response = healthz()

        assert response.status_code == 503
        assert response.json()["database"] == "unreachable"
        assert response.json()["last_sweep_at"] is None

    def test_answers_503_before_any_sweep_finished(self):
        response = healthz()

        assert response.status_code == 503
        assert response.json()["last_sweep_at"] is None

    def test_answers_503_once_three_sweep_intervals_passed_without_a_sweep(self, settings):
        settings.DEADLINE_SWEEP_INTERVAL = timedelta(seconds=60)
        swept()

        with time_machine.travel(SWEPT_AT + timedelta(minutes=3), tick=False):
            at_three = healthz()
        with time_machine.travel(SWEPT_AT + timedelta(minutes=3, microseconds=1), tick=False):
            after = healthz()

        assert at_three.status_code == 200
        assert after.status_code == 503
        assert after.json()["status"] == "failing"
        assert after.json()["last_sweep_at"] == "2026-03-02T09:30:00Z"
