"""Which URLs a webhook may target: the SSRF guard.

A target is http(s), carries no credentials, and every address its host resolves to is
public: private, loopback, link-local, CGNAT, multicast, reserved and unspecified
addresses are refused (IPv4 inside IPv6 too: mapped, 6to4, Teredo), unless
WEBHOOK_ALLOW_PRIVATE=true. The check runs when a webhook is saved and again before each
send, which then connects to the very address it checked (apps.webhooks.transport), so
a name that resolves elsewhere between the two (DNS rebinding) gains nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from apps.core.errors import ApiError

MAX_URL_LENGTH = 2000
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# Not "global" for IANA, yet not always flagged by the ipaddress module: refused by name.
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class TargetRefused(Exception):
    """A URL a webhook may not target; `code` is the API's error code for it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_api_error(self) -> ApiError:
        return ApiError(400, self.code, self.message)


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (`addresses`, all allowed) and what to ask for."""

    scheme: str
    host: str  # ASCII (IDNA), without brackets: the Host header and the TLS server name
    port: int
    path: str  # path and query, never empty
    addresses: tuple[str, ...]


def parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, ASCII host, port, path) of a webhook URL, or TargetRefused
    WEBHOOK_URL_INVALID: http(s) only, no credentials, no spaces, at most 2000 characters."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise TargetRefused("WEBHOOK_URL_INVALID", f"The URL must be 1 to {MAX_URL_LENGTH} chars")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise TargetRefused("WEBHOOK_URL_INVALID", "The URL must not contain spaces")
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").encode("idna").decode("ascii")
    except (ValueError, UnicodeError):
        raise TargetRefused("WEBHOOK_URL_INVALID", "The URL is not valid") from None
    if parts.scheme not in ("http", "https") or not host:
        raise TargetRefused("WEBHOOK_URL_INVALID", "The URL must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("WEBHOOK_URL_INVALID", "The URL must not contain credentials")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path


def forbidden(address: IPAddress) -> bool:
    """True for any address that is not plainly public (or an IPv4 one hidden in IPv6)."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address.teredo is not None:
            embedded = address.teredo[1]  # the client's own address
        if embedded is not None and forbidden(embedded):
            return True
    return (
        not address.is_global
        or address.is_multicast
        or address.is_reserved
        or address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or (address.version == 4 and address in _CGNAT)
    )


def resolve(host: str, port: int) -> tuple[str, ...]:
    """Every address `host` resolves to (an IP literal resolves to itself), in order."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise TargetRefused(
            "WEBHOOK_URL_UNRESOLVABLE", f"The host {host} could not be resolved"
        ) from None
    found: list[str] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = str(sockaddr[0]).split("%")[0]  # an IPv6 zone index is no part of it
        if address not in found:
            found.append(address)
    if not found:
        raise TargetRefused("WEBHOOK_URL_UNRESOLVABLE", f"The host {host} has no address")
    return tuple(found)


def check(url: str) -> Target:
    """The checked target of `url`, or TargetRefused (WEBHOOK_URL_INVALID,
    WEBHOOK_URL_UNRESOLVABLE, WEBHOOK_URL_PRIVATE). Resolves the host: may take a moment."""
    scheme, host, port, path = parse(url)
    addresses = resolve(host, port)
    if not settings.WEBHOOK_ALLOW_PRIVATE:
        refused = [a for a in addresses if forbidden(ipaddress.ip_address(a))]
        if refused:
            raise TargetRefused(
                "WEBHOOK_URL_PRIVATE",
                f"{host} resolves to a private, loopback or link-local address ({refused[0]}); "
                "set WEBHOOK_ALLOW_PRIVATE=true to allow such targets",
            )
    return Target(scheme, host, port, path, addresses)
