"""Signing and sending one webhook, as the Standard Webhooks specification lays it out.

A delivery is a ``POST`` of the event's JSON with the headers ``webhook-id`` (the event id),
``webhook-timestamp`` (Unix seconds) and ``webhook-signature``: ``v1,`` and the base64 of the
HMAC-SHA256 of ``"{id}.{timestamp}.{body}"``, keyed by the base64-decoded part of the secret
after ``whsec_``. During a rotation both secrets sign, space-separated, so a receiver that knows
either verifies it. Success is a 2xx answered within ``TIMEOUT``; a redirect is an answer like
any other (not followed), so it fails.

The connection goes to the address ``webhooks.targets.resolve`` checked, never to a name
resolved again: for ``https://`` the certificate is still verified against the URL's host.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import secrets
import socket
import ssl
import time
from dataclasses import dataclass

from . import targets

TIMEOUT = 10.0  # seconds, for the whole attempt
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 24
USER_AGENT = "milestone-disputes-webhooks/1"


def new_secret() -> str:
    """A fresh signing secret: "whsec_" and the base64 of 24 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One signature, ``v1,<base64>``, of ``body`` sent as ``msg_id`` at ``timestamp``."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return f"v1,{base64.b64encode(digest).decode()}"


def headers(*, secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The headers of one delivery, signed by each of ``secrets_``."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(
            sign(secret, msg_id=msg_id, timestamp=timestamp, body=body) for secret in secrets_
        ),
    }


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the HTTP status (None when there was no answer), and why it
    failed."""

    status_code: int | None
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a checked address, verifying the certificate against the URL's host name."""

    def __init__(self, address: str, port: int, *, server_hostname: str, timeout: float):
        super().__init__(address, port, timeout=timeout, context=ssl.create_default_context())
        self._server_hostname = server_hostname

    def connect(self):
        sock = socket.create_connection((self.host, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self._server_hostname)


def post(url: str, *, body: bytes, headers: dict[str, str], timeout: float = TIMEOUT) -> Answer:
    """Send ``body`` to ``url`` once; never raises for what the network or the target does."""
    started = time.perf_counter()

    def answer(status_code: int | None, error: str = "") -> Answer:
        elapsed = time.perf_counter() - started
        if not error and elapsed > timeout:
            error = f"No answer within {timeout:g} s."
        return Answer(status_code, error[:500], int(elapsed * 1000))

    try:
        target = targets.parse(url)
        address = targets.resolve(target)
    except targets.TargetRefused as refusal:
        return answer(None, f"Refused: {refusal}")
    if target.scheme == "https":
        conn: http.client.HTTPConnection = _PinnedHTTPSConnection(
            address, target.port, server_hostname=target.host, timeout=timeout
        )
    else:
        conn = http.client.HTTPConnection(address, target.port, timeout=timeout)
    try:
        conn.request(
            "POST", target.path, body=body, headers={"Host": target.host_header, **headers}
        )
        response = conn.getresponse()
        response.read(64 * 1024)
    except TimeoutError:
        return answer(None, f"No answer within {timeout:g} s.")
    except (OSError, http.client.HTTPException) as error:
        return answer(None, f"{type(error).__name__}: {error}".rstrip(": "))
    finally:
        conn.close()
    status = response.status
    if 200 <= status < 300:
        return answer(status)
    if 300 <= status < 400:
        return answer(status, f"HTTP {status}: redirects are not followed.")
    return answer(status, f"HTTP {status} {response.reason}".strip())
