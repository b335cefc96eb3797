"""A real webhook receiver on 127.0.0.1 (http.server in a thread) and the documented
signature check, for the webhook tests.

`receiving(answers)` runs a receiver that answers each POST with the next of `answers`
(the last one repeats): a status code, ("redirect", url), or ("slow", seconds) which
waits before answering 200. Every request is kept in `receiver.requests`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

Answer = int | tuple[str, Any]


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    url: str
    port: int
    answers: list[Answer]
    requests: list[Received] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:  # quiet tests
        pass

    def do_POST(self) -> None:
        receiver: Receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        receiver.requests.append(Received(self.path, dict(self.headers.items()), body))
        index = min(len(receiver.requests), len(receiver.answers)) - 1
        answer = receiver.answers[index]
        if isinstance(answer, tuple) and answer[0] == "slow":
            time.sleep(answer[1])
            answer = 200
        text = b""
        if isinstance(answer, tuple):  # ("redirect", url)
            self.send_response(302)
            self.send_header("Location", answer[1])
        else:
            self.send_response(answer)
            text = b"receiver says no" if answer >= 400 else b""
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


@contextmanager
def receiving(
    answers: list[Answer] | None = None,
    path: str = "/hook",
    tls: tuple[Path, Path] | None = None,
    host: str = "127.0.0.1",
) -> Iterator[Receiver]:
    """A receiver listening on 127.0.0.1; its URL names `host` (resolve it to 127.0.0.1)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
    port = server.server_address[1]
    scheme = "https" if tls else "http"
    receiver = Receiver(f"{scheme}://{host}:{port}{path}", port, answers or [200])
    server.receiver = receiver  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()


def verify(secret: str, header: str, body: bytes, tolerance_s: int = 300) -> bool:
    """The README's receiver check: t=<unix time>,v1=<hex HMAC-SHA256(secret, "t.body")>,
    with the timestamp within `tolerance_s` of now."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    fresh = abs(time.time() - timestamp) <= tolerance_s
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])
