"""What every endpoint shares: the one error shape, idempotent money POSTs, the schema and docs."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import IdempotencyRecord
from tests.kit import (
    ContractFactory,
    UserFactory,
    api_as,
    assert_error,
    ledger_rows,
    make_milestone,
)

pytestmark = pytest.mark.django_db


class TestErrorShape:
    def test_answers_401_to_a_caller_who_is_not_logged_in(self, db):
        response = APIClient().get("/api/v1/contracts/")

        assert_error(response, 401, "not_authenticated")
        assert response["WWW-Authenticate"] == "Token"

    def test_answers_401_to_an_unknown_token(self, db):
        api = APIClient(headers={"Authorization": "Token not-a-real-token"})

        assert_error(api.get("/api/v1/me/"), 401, "not_authenticated")

    def test_answers_malformed_json_with_400(self, as_client):
        response = as_client.post(
            "/api/v1/contracts/", data='{"title": "Logo",', content_type="application/json"
        )

        assert_error(response, 400, "malformed_request")

    def test_refuses_a_body_that_is_not_json(self, as_client):
        response = as_client.post(
            "/api/v1/contracts/",
            data="title=Logo",
            content_type="application/x-www-form-urlencoded",
        )

        assert_error(response, 415, "unsupported_media_type")

    def test_answers_a_wrong_method_with_405(self, as_client):
        assert_error(as_client.delete("/api/v1/contracts/"), 405, "method_not_allowed")

    def test_answers_an_unknown_api_url_with_404(self, as_client):
        response = as_client.get("/api/v1/no-such-thing/")

        assert_error(response, 404, "not_found")

    def test_keeps_the_field_errors_code_when_every_field_shares_it(self, as_client):
        error = assert_error(as_client.post("/api/v1/contracts/", {}), 400, "required")

        assert set(error["fields"]) == {"freelancer", "title", "currency"}
        assert error["message"] == "Some fields are invalid."

    def test_falls_back_to_invalid_when_fields_fail_differently(self, contract, as_client):
        response = as_client.post(
            f"/api/v1/contracts/{contract.pk}/milestones/", {"title": "", "amount": 12.5}
        )

        error = assert_error(response, 400, "invalid")
        assert set(error["fields"]) == {"title", "amount"}


class TestIdempotency:
    def test_a_replay_returns_the_first_response_and_moves_the_money_once(
        self, contract, as_client
    ):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        url = f"/api/v1/milestones/{milestone.pk}/release/"
        headers = {"Idempotency-Key": "release-200-once"}

        first = as_client.post(url, {"amount": "200.00"}, headers=headers)
        replay = as_client.post(url, {"amount": "200.00"}, headers=headers)

        assert first.status_code == 200
        assert "Idempotent-Replayed" not in first
        assert replay.status_code == 200
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert first.json()["escrow_balance"] == "300.00"
        assert ledger_rows() == 2

    def test_a_replayed_fund_does_not_answer_409(self, contract, as_client):
        milestone = make_milestone(contract)
        url = f"/api/v1/milestones/{milestone.pk}/fund/"

        first = as_client.post(url, headers={"Idempotency-Key": "fund-1"})
        replay = as_client.post(url, headers={"Idempotency-Key": "fund-1"})

        assert first.status_code == replay.status_code == 200
        assert replay.json() == first.json()
        assert ledger_rows() == 1

    def test_refuses_the_same_key_with_another_body(self, contract, as_client):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        url = f"/api/v1/milestones/{milestone.pk}/release/"
        as_client.post(url, {"amount": "200.00"}, headers={"Idempotency-Key": "k1"})

        response = as_client.post(url, {"amount": "250.00"}, headers={"Idempotency-Key": "k1"})

        assert_error(response, 409, "idempotency_key_reused")
        assert ledger_rows() == 2

    def test_refuses_the_same_key_on_another_milestone(self, contract, as_client):
        first = make_milestone(contract)
        second = make_milestone(contract)
        as_client.post(f"/api/v1/milestones/{first.pk}/fund/", headers={"Idempotency-Key": "k"})

        response = as_client.post(
            f"/api/v1/milestones/{second.pk}/fund/", headers={"Idempotency-Key": "k"}
        )

        assert_error(response, 409, "idempotency_key_reused")
        assert ledger_rows() == 1

    @pytest.mark.parametrize("key", ["", "k" * 256])
    def test_refuses_a_key_that_is_empty_or_longer_than_255_characters(
        self, contract, as_client, key
    ):
        milestone = make_milestone(contract)

        response = as_client.post(
            f"/api/v1/milestones/{milestone.pk}/fund/", headers={"Idempotency-Key": key}
        )

        assert_error(response, 400, "invalid_idempotency_key")
        assert ledger_rows() == 0

    def test_takes_a_key_of_exactly_255_characters(self, contract, as_client):
        milestone = make_milestone(contract)

        response = as_client.post(
            f"/api/v1/milestones/{milestone.pk}/fund/", headers={"Idempotency-Key": "k" * 255}
        )

        assert response.status_code == 200
        assert ledger_rows() == 1

    def test_does_not_keep_a_failed_request_so_the_key_can_be_retried(self, contract, as_client):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        url = f"/api/v1/milestones/{milestone.pk}/release/"
        headers = {"Idempotency-Key": "retry-me"}
        failed = as_client.post(url, {"amount": "900.00"}, headers=headers)

        retried = as_client.post(url, {"amount": "900.00"}, headers=headers)

        assert_error(failed, 400, "amount_above_escrow")
        assert_error(retried, 400, "amount_above_escrow")
        assert not IdempotencyRecord.objects.exists()
        assert ledger_rows() == 1

    def test_keys_belong_to_one_user(self, client_user, freelancer):
        other_client = UserFactory()
        mine = make_milestone(ContractFactory(client=client_user, freelancer=freelancer))
        theirs = make_milestone(ContractFactory(client=other_client, freelancer=freelancer))
        api_as(client_user).post(
            f"/api/v1/milestones/{mine.pk}/fund/", headers={"Idempotency-Key": "same"}
        )

        response = api_as(other_client).post(
            f"/api/v1/milestones/{theirs.pk}/fund/", headers={"Idempotency-Key": "same"}
        )

        assert response.status_code == 200
        assert "Idempotent-Replayed" not in response
        assert response.json()["id"] == theirs.pk
        assert ledger_rows() == 2

    def test_a_stranger_with_a_key_finds_nothing_and_leaves_no_record(self, contract, stranger):
        milestone = make_milestone(contract)

        response = api_as(stranger).post(
            f"/api/v1/milestones/{milestone.pk}/fund/", headers={"Idempotency-Key": "probe"}
        )

        assert_error(response, 404, "not_found")
        assert not IdempotencyRecord.objects.exists()
        assert ledger_rows() == 0

    def test_forgets_a_key_once_it_has_expired(self, settings, contract, as_client):
        milestone = make_milestone(contract, amount="500.00", funded=True)
        url = f"/api/v1/milestones/{milestone.pk}/release/"
        headers = {"Idempotency-Key": "monthly"}
        start = timezone.now()
        with time_machine.travel(start, tick=False):
            as_client.post(url, {"amount": "100.00"}, headers=headers)

        with time_machine.travel(start + settings.IDEMPOTENCY_KEY_TTL - timedelta(seconds=1)):
            kept = as_client.post(url, {"amount": "100.00"}, headers=headers)
        with time_machine.travel(start + settings.IDEMPOTENCY_KEY_TTL + timedelta(seconds=1)):
            expired = as_client.post(url, {"amount": "100.00"}, headers=headers)

        assert kept["Idempotent-Replayed"] == "true"
        assert "Idempotent-Replayed" not in expired
        assert expired.json()["escrow_balance"] == "300.00"
        assert ledger_rows() == 3


class TestSchemaAndDocs:
    def test_the_schema_generates_and_validates_without_a_warning(self, tmp_path, capsys):
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml")
        )

        captured = capsys.readouterr()
        assert "Warning" not in captured.err + captured.out
        schema = (tmp_path / "schema.yml").read_text()
        for path in [
            "/api/v1/auth/token/",
            "/api/v1/me/",
            "/api/v1/balances/",
            "/api/v1/contracts/",
            "/api/v1/contracts/{id}/",
            "/api/v1/contracts/{id}/milestones/",
            "/api/v1/milestones/{id}/",
            "/api/v1/milestones/{id}/fund/",
            "/api/v1/milestones/{id}/submit/",
            "/api/v1/milestones/{id}/release/",
        ]:
            assert f"  {path}:" in schema

    def test_the_schema_is_served(self, db):
        response = APIClient().get("/api/schema/")

        assert response.status_code == 200
        assert b"openapi: 3" in response.content

    def test_the_docs_render_with_assets_served_locally(self, db):
        response = APIClient().get("/api/docs/")

        assert response.status_code == 200
        html = response.content.decode()
        assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
        for cdn in ["cdn.jsdelivr.net", "unpkg.com", "cdnjs", "https://"]:
            assert cdn not in html
