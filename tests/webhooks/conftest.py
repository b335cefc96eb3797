"""Fixtures of the webhook tests: private targets allowed or not, and a resolver whose
answers a test sets (the one stand-in here: DNS, which is not ours)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import pytest

from apps.webhooks.models import Webhook


@pytest.fixture
def private_ok(settings) -> None:
    """The local receivers listen on 127.0.0.1: a homelab setting."""
    settings.WEBHOOK_ALLOW_PRIVATE = True


@pytest.fixture
def private_refused(settings) -> None:
    settings.WEBHOOK_ALLOW_PRIVATE = False


class Names:
    """Host names resolved to the addresses a test sets (none: the name does not
    resolve); `calls` counts their lookups."""

    def __init__(self) -> None:
        self.table: dict[str, list[str]] = {}
        self.calls: dict[str, int] = {}

    def __setitem__(self, name: str, addresses: list[str]) -> None:
        self.table[name] = addresses


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> Names:
    """Every name and address not in the table resolves as usual."""
    real = socket.getaddrinfo
    names = Names()

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name not in names.table:
            return real(host, port, *args, **kwargs)
        names.calls[name] = names.calls.get(name, 0) + 1
        if not names.table[name]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [info for a in names.table[name] for info in real(a, port, *args, **kwargs)]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names


@pytest.fixture
def make_webhook() -> Callable[..., Webhook]:
    """A webhook row as the API would store it (for tests about sending, not saving)."""

    def make(owner: Any, url: str, **fields: Any) -> Webhook:
        return Webhook.objects.create(owner=owner, url=url, secret="whsec_" + "ab" * 32, **fields)

    return make
