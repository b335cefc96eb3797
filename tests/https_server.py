"""A real HTTPS server on 127.0.0.1 for the model download tests (self-signed, made here).

`serve(routes)` answers GET <path> from `routes`: bytes (Range requests honoured with 206),
("full", bytes) which ignores Range, ("redirect", url), or ("drop", bytes) which sends the
bytes and closes early (a dropped connection). Each request's Range header is kept in
`server.ranges` for the tests.
"""

from __future__ import annotations

import re
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with the openssl command."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


class _Handler(BaseHTTPRequestHandler):
    server: Any

    def log_message(self, *args: Any) -> None:  # quiet tests
        pass

    def do_GET(self) -> None:
        self.server.ranges.append(self.headers.get("Range"))
        route = self.server.routes.get(self.path)
        if route is None:
            self.send_error(404)
        elif isinstance(route, tuple) and route[0] == "redirect":
            self.send_response(302)
            self.send_header("Location", route[1])
            self.end_headers()
        elif isinstance(route, tuple) and route[0] == "full":  # a server that ignores Range
            self.send_response(200)
            self.send_header("Content-Length", str(len(route[1])))
            self.end_headers()
            self.wfile.write(route[1])
        elif isinstance(route, tuple) and route[0] == "drop":
            self.send_response(200)
            self.send_header("Content-Length", str(len(route[1]) * 2))
            self.end_headers()
            self.wfile.write(route[1])
            self.wfile.flush()
            self.close_connection = True
        else:
            self._send(route)

    def _send(self, body: bytes) -> None:
        start = 0
        wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if wanted and int(wanted.group(1)) < len(body):
            start = int(wanted.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])


@contextmanager
def serve(folder: Path, routes: dict[str, Any]) -> Iterator[tuple[Any, Path]]:
    """(the server, its CA file); its base URL is server.url."""
    cert, key = self_signed(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.routes, server.ranges = routes, []
    server.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, cert
    finally:
        server.shutdown()
        server.server_close()
