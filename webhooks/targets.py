"""Where a webhook may be sent: checked when an endpoint is registered, and again at each send.

Unless ``WEBHOOK_ALLOW_PRIVATE_TARGETS`` is on (it is locally and in tests), a target must
resolve only to public addresses: never loopback, private, link-local, multicast, reserved or
unspecified ones, nor an IPv6 address that maps one of those. A name is resolved when the
endpoint is registered and again before every send, and the connection goes to the address
that was resolved and checked (:func:`resolve`), so a DNS answer that changes between the check
and the connection (DNS rebinding) cannot reach a private address. ``WEBHOOK_HTTPS_ONLY`` (on in
production) refuses ``http://`` targets. Redirects are never followed (``webhooks.sending``).
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from core.errors import InvalidInput

MAX_URL_LENGTH = 2000


class TargetRefused(Exception):
    """The target may not be sent to; the message says why, for the delivery log."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # a name, or an address without brackets
    port: int
    path: str  # with the query string

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str) -> Target:
    """Split ``url`` into what a send needs, or raise TargetRefused saying what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetRefused(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise TargetRefused("This is not a valid URL.") from None
    schemes = ("https",) if settings.WEBHOOK_HTTPS_ONLY else ("https", "http")
    if parts.scheme not in schemes:
        raise TargetRefused(f"Use an {' or '.join(s + '://' for s in schemes)} URL.")
    if not parts.hostname:
        raise TargetRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("Leave credentials out of the URL; verify the signature instead.")
    if parts.fragment:
        raise TargetRefused("Leave the #fragment out of the URL.")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    default = 443 if parts.scheme == "https" else 80
    return Target(parts.scheme, parts.hostname, port or default, path)


def is_public(address: str) -> bool:
    """Whether ``address`` is one a webhook may reach when private targets are refused."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def addresses_of(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to now (the resolver; tests replace it)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def resolve(target: Target) -> str:
    """The checked address to connect to for ``target``, or raise TargetRefused.

    Every address the host resolves to must be allowed: a name that answers with a private
    address beside a public one is refused, whichever would be tried.
    """
    try:
        ipaddress.ip_address(target.host)
        found = [target.host]
    except ValueError:
        try:
            found = addresses_of(target.host, target.port)
        except OSError as error:
            raise TargetRefused(f"{target.host} could not be resolved ({error}).") from None
    if not found:
        raise TargetRefused(f"{target.host} resolves to no address.")
    if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        refused = [address for address in found if not is_public(address)]
        if refused:
            raise TargetRefused(
                f"{target.host} resolves to {refused[0]}, a loopback, private, link-local or "
                "reserved address: webhooks are sent to public addresses only."
            )
    return found[0]


def check(url: str) -> str:
    """Return ``url`` cleaned if an endpoint may be registered for it; else raise InvalidInput.

    Private targets are allowed: the URL's form only. Otherwise its host is resolved and every
    address checked, as before each send.
    """
    url = (url or "").strip()
    try:
        target = parse(url)
        if not settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
            resolve(target)
    except TargetRefused as refusal:
        message = str(refusal)
        raise InvalidInput(message, code="invalid_url", fields={"url": [message]}) from None
    return url
