"""A real HTTP receiver on 127.0.0.1 for the webhook tests, and a resolver that answers as told."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from webhooks import services, targets


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Records every POST and answers each with the next status of ``answers`` (then 200)."""

    url: str = ""
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)

    def answer(self, *statuses: int) -> None:
        self.answers.extend(statuses)

    @property
    def types(self) -> list[str]:
        import json

        return [json.loads(r.body)["type"] for r in self.received]


@pytest.fixture
def receiver():
    got = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                got.received.append(Received(dict(self.headers.items()), body))
                status = got.answers.pop(0) if got.answers else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hooks"
    yield got
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
def dns(monkeypatch, settings):
    """Private targets refused, and a resolver that answers what the test says (no network)."""
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(targets, "addresses_of", lambda host, port: answers[host])
    return answers


def endpoint_for(user, url: str, events=("*",), now=None):
    return services.endpoint_create(
        owner=user, url=url, events=list(events), now=now or timezone.now()
    )
