"""Bad input is a 4xx, never a server error: OPTIONS on every path of the API, text no database
can store (a NUL, a lone surrogate) in every string a request carries, a NUL in every field of
the browser's forms.

The API's paths and bodies come from its OpenAPI schema, so an endpoint added later is walked
too; each ``{id}`` is replaced by the ids of real objects, so a request gets as far as it can.
"""

from __future__ import annotations

import json
from datetime import timedelta
from html.parser import HTMLParser
from itertools import product
from types import SimpleNamespace
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Notification
from core.api_defaults import UNSTORABLE_TEXT
from core.models import IdempotencyRecord
from disputes import services as disputes
from disputes.models import Dispute, Evidence
from offers import services as offers
from tests import kit

pytestmark = pytest.mark.django_db

SCHEMA = SchemaGenerator().get_schema(request=None, public=True)
COMPONENTS = SCHEMA["components"]["schemas"]
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [
    (path, method) for path, item in SCHEMA["paths"].items() for method in METHODS if method in item
]
# What a client may send that no database stores: PostgreSQL refuses NUL in text, and neither
# database can encode half of a UTF-16 surrogate pair.
UNSTORABLE = {"nul": "bad\x00text", "surrogate": "bad\ud800text"}


# --- The world the requests act on ----------------------------------------------------------


@pytest.fixture
def world(client_user, freelancer, agent, arbitrator):
    """Objects of every kind the API and the pages address, in the stages where most can act.

    ``ids`` gives, per path segment (``disputes``), the ids to put after it; ``pages`` the
    browser pages that show forms.
    """
    now = timezone.now()

    def contract():
        return kit.ContractFactory(client=client_user, freelancer=freelancer)

    stages = {
        stage: kit.dispute_at(stage, contract(), agent=agent, arbitrator=arbitrator, now=now)
        for stage in ("draft", "filed", "declined", "proposed", "case")
    }
    disputes.evidence_add(
        dispute=stages["draft"], actor=freelancer, file=kit.pdf(), description="", now=now
    )
    evidence_request = kit.evidence_request(stages["case"], arbitrator, now=now)
    opened = kit.refund_request(contract(), now=now)
    active = contract()
    submitted = kit.submitted(active, now=now)
    funded = kit.funded(active, now=now)
    support_case = kit.support_case(submitted, now=now)
    notification = Notification.objects.filter(user=freelancer).order_by("pk").first()
    offer = offers.offer_make(
        dispute=stages["filed"],
        actor=freelancer,
        to_freelancer="200.00",
        to_client="100.00",
        now=now,
    )
    ids = {
        "contracts": [active.pk],
        "milestones": [funded.pk, submitted.pk],
        "refund-requests": [opened.pk, stages["draft"].refund_request_id],
        "disputes": [dispute.pk for dispute in stages.values()],
        "evidence": list(Evidence.objects.values_list("pk", flat=True)),
        "evidence-requests": [evidence_request.pk],
        "support-cases": [support_case.pk],
        "notifications": [notification.pk],
        "offers": [offer.pk],
    }
    draft = stages["draft"].pk
    pages = [
        reverse("login"),
        reverse("contracts:history"),
        reverse("contracts:new"),
        reverse("contracts:detail", args=[active.pk]),
        reverse("contracts:milestone-new", args=[active.pk]),
        reverse("disputes:contract-end", args=[active.pk]),
        reverse("disputes:refund-request", args=[opened.pk]),
        reverse("disputes:dispute-feedback", args=[opened.pk]),
        reverse("disputes:dispute-details", args=[draft]),
        reverse("disputes:dispute-amount", args=[draft]),
        reverse("disputes:dispute-review", args=[draft]),
        reverse("disputes:support-case-open", args=[funded.pk]),
        reverse("disputes:support-case", args=[support_case.pk]),
        *(reverse("disputes:dispute", args=[dispute.pk]) for dispute in stages.values()),
        *(
            reverse(f"admin:{queue}_change", args=[stages[stage].pk])
            for queue, stage in (
                ("mediation_mediationqueueitem", "declined"),
                ("mediation_mediationqueueitem", "proposed"),
                ("arbitration_arbitrationqueueitem", "case"),
            )
        ),
    ]
    pages += [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model, model_admin in admin.site._registry.items()
        if model_admin.search_fields
    ]
    users = [client_user, freelancer, agent, arbitrator, kit.support("sid-support")]
    return SimpleNamespace(users=users, ids=ids, pages=pages)


# The id of nothing: for a kind of object this test does not make yet.
NOWHERE = 2_000_000_000


def concrete_paths(path: str, ids: dict[str, list[int]]) -> list[str]:
    """``path`` with each ``{id}`` replaced by each id of the kind the segment before it names.

    A kind this test does not know yet gets an id that exists nowhere: the request is still
    made, and must still not fail.
    """
    parts = path.split("/")
    choices = [
        ids.get(parts[index - 1], [NOWHERE]) if part.startswith("{") else [part]
        for index, part in enumerate(parts)
    ]
    return ["/".join(map(str, combination)) for combination in product(*choices)]


def made_for(path: str, ids: dict[str, list[int]]) -> bool:
    """Whether the world holds objects for every ``{id}`` of ``path``."""
    parts = path.split("/")
    return all(parts[i - 1] in ids for i, part in enumerate(parts) if part.startswith("{"))


# --- Request bodies from the schema ---------------------------------------------------------


def resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = COMPONENTS[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return resolve({**schema["allOf"][0], **{k: v for k, v in schema.items() if k != "allOf"}})
    return schema


def example(schema: dict):
    """A plausible value of ``schema``: what a well-meaning client would send."""
    schema = resolve(schema)
    if "enum" in schema:
        return next(value for value in schema["enum"] if value is not None)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: example(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return [example(schema.get("items", {}))]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if fmt == "date-time":
        return kit.utc(timezone.now() + timedelta(days=1))
    if fmt == "date":
        return (timezone.now() + timedelta(days=30)).date().isoformat()
    if fmt == "decimal" or "pattern" in schema:
        return "1.00"
    return "Some text."


def string_leaves(value, at=()):
    """The paths of every string in ``value`` (a JSON document)."""
    if isinstance(value, dict):
        for name, sub in value.items():
            yield from string_leaves(sub, (*at, name))
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            yield from string_leaves(sub, (*at, index))
    elif isinstance(value, str):
        yield at


def replaced(value, at, new):
    if not at:
        return new
    head, *rest = at
    copy = list(value) if isinstance(value, list) else dict(value)
    copy[head] = replaced(value[head], tuple(rest), new)
    return copy


def requests(operation: dict):
    """Each request ``operation`` takes with one string made unstorable.

    Yields ``(what, field, kwargs)``: ``field`` is the name the 400 must give the culprit under
    ``fields`` (None when the answer names no field), ``kwargs`` makes the request's arguments.
    """
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        base = example(content["application/json"]["schema"])
        for at in string_leaves(base):
            field = ".".join(map(str, at))
            for label, text in UNSTORABLE.items():
                body = json.dumps(replaced(base, at, text))
                yield (
                    f"{field} {label}",
                    field,
                    lambda body=body: {"data": body, "content_type": "application/json"},
                )
    elif "multipart/form-data" in content:
        schema = resolve(content["multipart/form-data"]["schema"])
        for name, field in schema.get("properties", {}).items():
            if resolve(field).get("format") != "binary":
                data = {name: UNSTORABLE["nul"]}
                yield (
                    f"{name} nul",
                    name,
                    lambda data=data: {"data": {"file": kit.pdf(), **data}, "format": "multipart"},
                )
    # A header or a query string reaches Django as bytes, decoded: a NUL can arrive, never a
    # lone surrogate.
    for parameter in operation.get("parameters", []):
        if resolve(parameter.get("schema", {})).get("type") != "string":
            continue
        name, text = parameter["name"], UNSTORABLE["nul"]
        if parameter["in"] == "header":
            headers = {name: text}
            yield f"header {name}", None, lambda headers=headers: {"headers": headers}
        elif parameter["in"] == "query":
            query = urlencode({name: text})
            yield f"query {name}", None, lambda query=query: {"QUERY_STRING": query}


def answering(user):
    """An API client of ``user`` that gets a server error as a response, to report them all."""
    api = kit.api_as(user)
    api.raise_request_exception = False
    return api


def names(response, field) -> bool:
    """Whether ``response`` is the 400 that refuses the request for ``field`` (or for a header)."""
    if response.status_code != 400:
        return False
    return field is None or field in response.json()["error"]["fields"]


# --- The tests ------------------------------------------------------------------------------


def test_unstorable_text_in_any_field_is_a_400_naming_it_and_never_a_server_error(world):
    """Each request is made as each user on each object until one is refused for the text;
    every answer on the way must be a 4xx (a 404, a 403…), which changes nothing."""
    failures = []

    for path, method in OPERATIONS:
        operation = SCHEMA["paths"][path][method]
        for what, field, kwargs in requests(operation):
            attempts = [
                (user, concrete)
                for user in world.users
                for concrete in concrete_paths(path, world.ids)
            ]
            for user, concrete in attempts:
                response = getattr(answering(user), method)(concrete, **kwargs())
                if not 400 <= response.status_code < 500:
                    failures.append(
                        f"{user} {method.upper()} {concrete} {what}: "
                        f"{response.status_code} {response.content[:200]!r}"
                    )
                if names(response, field):
                    break
            else:
                if made_for(path, world.ids):
                    failures.append(f"{method.upper()} {path} {what}: never refused for it")

    assert not failures, "\n".join(failures)


def test_options_answers_every_path_in_json(world):
    failures = []

    for path in [*SCHEMA["paths"], "/api/schema/", "/api/docs/"]:
        for user in [*world.users, None]:
            api = answering(user)
            for concrete in concrete_paths(path, world.ids):
                response = api.options(concrete)
                if response.status_code >= 500 or response["Content-Type"] != "application/json":
                    failures.append(f"{user} OPTIONS {concrete}: {response.status_code}")

    assert not failures, "\n".join(failures)


class TestUnstorableText:
    def test_names_the_nested_field_and_changes_nothing(self, as_freelancer, contract):
        request = kit.ended(contract)
        body = {
            "feedback": {"rating": 3, "comment": "Paid late\u0000"},
            "reason": "NON_PAYMENT",
            "description": "All five pages were delivered.",
            "amount": "100.00",
        }

        response = as_freelancer.post(
            f"/api/v1/refund-requests/{request.pk}/dispute/",
            data=json.dumps(body),
            content_type="application/json",
        )

        error = kit.assert_error(response, 400, "unstorable_text")
        assert error["fields"] == {"feedback.comment": [UNSTORABLE_TEXT]}
        assert not Dispute.objects.exists()

    def test_refuses_a_lone_surrogate_in_a_list_and_in_a_key(self, as_client, contract):
        milestone = kit.funded(contract)
        # json.dumps escapes the lone surrogates as a client would: "\\ud800".
        bodies = {
            "in_list": {"payments": [{"milestone": milestone.pk, "amount": "1\ud800"}]},
            "in_key": {"payments": [], "\udfff": 1},
        }

        in_list, in_key = (
            as_client.post(
                f"/api/v1/contracts/{contract.pk}/end/",
                data=json.dumps(body),
                content_type="application/json",
            )
            for body in bodies.values()
        )

        assert kit.assert_error(in_list, 400, "unstorable_text")["fields"] == {
            "payments.0.amount": [UNSTORABLE_TEXT]
        }
        assert kit.assert_error(in_key, 400, "unstorable_text")["message"] == UNSTORABLE_TEXT
        assert kit.reload(milestone).status == milestone.status

    def test_keeps_characters_beyond_the_basic_plane_sent_as_a_surrogate_pair(
        self, as_client, freelancer
    ):
        body = '{"freelancer": "%s", "title": "Logo \\ud83d\\ude00", "currency": "USD"}'

        response = as_client.post(
            "/api/v1/contracts/", data=body % freelancer.username, content_type="application/json"
        )

        assert response.status_code == 201, response.content
        assert response.json()["title"] == "Logo \U0001f600"

    def test_refuses_a_nul_in_an_idempotency_key_and_moves_nothing(self, as_client, contract):
        milestone = kit.make_milestone(contract)
        books = kit.ledger_rows()

        response = as_client.post(
            f"/api/v1/milestones/{milestone.pk}/fund/", headers={"Idempotency-Key": "key\x00"}
        )

        kit.assert_error(response, 400, "invalid_idempotency_key")
        assert kit.ledger_rows() == books
        assert not IdempotencyRecord.objects.exists()

    def test_refuses_a_nul_in_a_multipart_field(self, as_freelancer, contract):
        dispute = kit.draft(kit.ended(contract))

        response = as_freelancer.post(
            f"/api/v1/disputes/{dispute.pk}/evidence/",
            data={"file": kit.pdf(), "description": "Invoice\x00"},
            format="multipart",
        )

        error = kit.assert_error(response, 400, "unstorable_text")
        assert error["fields"] == {"description": [UNSTORABLE_TEXT]}
        assert not Evidence.objects.exists()


class TestMalformedBodies:
    def test_answers_json_nested_deeper_than_the_parser_goes_with_400(self, as_client):
        response = as_client.post(
            "/api/v1/contracts/",
            data="[" * 100_000 + "]" * 100_000,
            content_type="application/json",
        )

        kit.assert_error(response, 400, "malformed_request")


class TestOptions:
    def test_describes_a_view_that_checks_its_body_per_method(self, as_client):
        response = as_client.options("/api/v1/contracts/")

        assert response.status_code == 200
        assert response.json()["parses"] == ["application/json"]

    def test_answers_in_json_where_the_view_renders_only_html(self, as_client):
        response = as_client.options("/api/docs/")

        assert response.status_code == 200
        assert response["Content-Type"] == "application/json"

    def test_still_describes_the_body_of_a_view_that_names_its_serializer(self, db):
        response = APIClient().options("/api/v1/auth/token/")

        assert response.status_code == 200
        assert set(response.json()["actions"]["POST"]) == {"username", "password", "token"}


# --- Browser forms --------------------------------------------------------------------------


class Forms(HTMLParser):
    """The forms of a page: each one's action, method and fields.

    A field is ``[name, kind, value as a browser would send it, marked invalid]``.
    """

    SENT = ("hidden", "text", "email", "search", "url", "tel", "password", "number", "date")
    SENT += ("datetime-local", "time", "checkbox", "radio", "textarea", "select")

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._open: list | None = None
        self.feed(html)

    def fields_named(self, name: str) -> list[list]:
        return [field for form in self.forms for field in form["fields"] if field[0] == name]

    def handle_starttag(self, tag, attrs):
        attrs = {name: value or "" for name, value in attrs}
        if tag == "form":
            method = attrs.get("method", "get").lower()
            self.forms.append({"action": attrs.get("action", ""), "method": method, "fields": []})
            return
        if not self.forms:
            return
        if tag == "option" and self._open is not None:
            if self._open[2] is None or "selected" in attrs:
                self._open[2] = attrs.get("value", "")
            return
        kind = attrs.get("type", "text").lower() if tag == "input" else tag
        if not attrs.get("name") or kind not in self.SENT:
            return
        if kind in ("checkbox", "radio") and "checked" not in attrs:
            return
        value = None if tag == "select" else "" if tag == "textarea" else attrs.get("value", "")
        field = [attrs["name"], kind, value, attrs.get("aria-invalid") == "true"]
        self.forms[-1]["fields"].append(field)
        if tag in ("textarea", "select"):
            self._open = field

    def handle_endtag(self, tag):
        if tag in ("textarea", "select"):
            self._open = None

    def handle_data(self, data):
        if self._open is not None and self._open[1] == "textarea":
            self._open[2] += data


# The inputs a person types into.
TYPED = ("text", "textarea", "email", "search", "url", "tel", "password", "number", "date")
TYPED += ("datetime-local", "time")


def test_a_browser_form_given_a_nul_comes_back_with_the_field_marked_invalid(world):
    failures = []
    tried = set()

    for user in world.users:
        browser = kit.browser_for(user)
        browser.raise_request_exception = False
        for page in world.pages:
            shown = browser.get(page)
            if shown.status_code != 200:
                continue
            for form in Forms(shown.content.decode()).forms:
                action = form["action"] or page
                for name, kind, *_ in form["fields"]:
                    if kind not in TYPED or (user.pk, action, name) in tried:
                        continue
                    tried.add((user.pk, action, name))
                    data = {field: value for field, _, value, _ in form["fields"]}
                    data[name] = UNSTORABLE["nul"]

                    response = getattr(browser, form["method"])(action, data)

                    what = f"{user} {form['method'].upper()} {action} {name}"
                    if response.status_code >= 500:
                        failures.append(f"{what}: {response.status_code}")
                    elif form["method"] == "post" and not (
                        response.status_code in (200, 400)
                        and any(
                            field[3]
                            for field in Forms(response.content.decode()).fields_named(name)
                        )
                    ):
                        failures.append(f"{what}: {response.status_code}, not marked invalid")

    assert len(tried) > 20, tried
    assert not failures, "\n".join(failures)
