"""manage.py mcp: the MCP server over stdio, for assistants that start it themselves
(Claude Desktop, Cursor...). stdout carries the protocol; logs go to stderr.

PIXELSMITH_API_KEY=si_... manage.py mcp     # acts as the key's owner (recommended)
manage.py mcp --user alice                   # acts as alice (local shell access)

Links in answers are paths on the server unless PIXELSMITH_URL (or --base-url) gives its
address. Fast tools run inside this process; queued work (AI tools, large jobs) needs
the server's worker running (`make run` starts one).
"""

from __future__ import annotations

import os
from argparse import ArgumentParser
from typing import Any

import anyio
from django.core.management.base import BaseCommand, CommandError

from apps.core.errors import ApiError
from apps.mcpserver.identity import API_KEY_ENV, stdio_source
from apps.mcpserver.server import build_server

BASE_URL_ENV = "PIXELSMITH_URL"


class Command(BaseCommand):
    help = "Serve the MCP server over stdio, acting as one user (PIXELSMITH_API_KEY or --user)."
    requires_system_checks: list[str] = []  # nothing may delay the client's handshake

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--user", help=f"act as this user (default: the {API_KEY_ENV} key)")
        parser.add_argument(
            "--base-url",
            default=os.environ.get(BASE_URL_ENV, ""),
            help=f"the server's address for links, e.g. http://localhost:1349 ({BASE_URL_ENV})",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        api_key = os.environ.get(API_KEY_ENV, "").strip() or None
        base_url = str(options["base_url"] or "").rstrip("/")
        try:
            source = stdio_source(options["user"], None if options["user"] else api_key, base_url)
            caller = source()  # fail now, not at the assistant's first call
        except ApiError as exc:
            raise CommandError(f"{exc.code}: {exc.message}") from None
        self.stderr.write(f"Pixelsmith MCP server on stdio, acting as {caller.user}")
        anyio.run(build_server(source).run_stdio_async)
