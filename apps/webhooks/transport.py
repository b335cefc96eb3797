"""One signed POST to a webhook, over a connection pinned to the address that was checked.

The standard library's http.client is used with its connect() replaced: the socket goes
to the IP address apps.webhooks.addresses approved, while the Host header and the TLS
server name (SNI and certificate check) stay the URL's host name. No proxy from the
environment is used (it would resolve the name itself) and no redirect is followed.
A timer closes the socket at WEBHOOK_TIMEOUT_S, so a receiver that trickles its answer
cannot hold a worker longer than that.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

import certifi
from django.conf import settings

from apps.webhooks.addresses import Target

EXCERPT_BYTES = 200  # of a failed answer's body, kept in the delivery log


@dataclass(frozen=True)
class Outcome:
    """How one attempt went: `ok` for a 2xx answer; `sent` False when nothing left."""

    ok: bool
    sent: bool
    response_status: int | None = None
    latency_ms: int | None = None
    error: str = ""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Pixelsmith-Signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "t.body">."""
    signed = str(timestamp).encode() + b"." + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@lru_cache(maxsize=4)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates are checked against WEBHOOK_CA_FILE if set, else the public CAs."""
    return ssl.create_default_context(cafile=ca_file or certifi.where())


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to `address`, speaking to the host named at construction."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to `address`; the certificate must still be valid for the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=tls_context(settings.WEBHOOK_CA_FILE))
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(raw, server_hostname=self.host)  # type: ignore[attr-defined]


def _abort(connection: http.client.HTTPConnection, expired: threading.Event) -> None:
    """Called by the deadline timer: the blocked read or write fails at once."""
    expired.set()
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float) -> Outcome:
    """POST `body` to the target's first address that accepts a connection."""
    started = time.monotonic()
    outcome = Outcome(ok=False, sent=False, error="No address to connect to")
    for address in target.addresses:
        outcome = _post_to(address, target, body, headers, timeout)
        if outcome.sent or time.monotonic() - started >= timeout:
            break
    return outcome


def _post_to(
    address: str, target: Target, body: bytes, headers: dict[str, str], timeout: float
) -> Outcome:
    kind = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    connection = kind(target.host, target.port, address, timeout)
    expired = threading.Event()
    timer = threading.Timer(timeout, _abort, args=(connection, expired))
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        try:
            connection.connect()
        except (OSError, ssl.SSLError) as exc:
            return Outcome(ok=False, sent=False, error=_describe(exc, expired, timeout))
        return _exchange(connection, target, body, headers, started, expired, timeout)
    finally:
        timer.cancel()
        connection.close()


def _exchange(
    connection: http.client.HTTPConnection,
    target: Target,
    body: bytes,
    headers: dict[str, str],
    started: float,
    expired: threading.Event,
    timeout: float,
) -> Outcome:
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        latency = round((time.monotonic() - started) * 1000)
        excerpt = response.read(EXCERPT_BYTES)
    except (OSError, http.client.HTTPException) as exc:
        elapsed = round((time.monotonic() - started) * 1000)
        return Outcome(
            ok=False, sent=True, latency_ms=elapsed, error=_describe(exc, expired, timeout)
        )
    status = response.status
    if 200 <= status < 300:
        return Outcome(ok=True, sent=True, response_status=status, latency_ms=latency)
    if 300 <= status < 400:
        where = response.getheader("Location", "")[:200]
        error = f"HTTP {status}: redirects are not followed (Location: {where})"
    else:
        text = excerpt.decode("utf-8", "replace").strip()
        error = f"HTTP {status}" + (f": {text}" if text else "")
    return Outcome(ok=False, sent=True, response_status=status, latency_ms=latency, error=error)


def _describe(exc: BaseException, expired: threading.Event, timeout: float) -> str:
    if expired.is_set() or isinstance(exc, TimeoutError):
        return f"Timed out after {timeout:g} s"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error: {exc.reason or exc}"[:300]
    if isinstance(exc, ConnectionRefusedError):
        return "Connection refused"
    return f"{type(exc).__name__}: {exc}"[:300]
