"""TRUSTED_PROXIES through the real server (serve.sh's uvicorn): X-Forwarded-For is
believed from a trusted proxy only, so per-client limits key on the real client and a
client cannot forge a fresh identity."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.live.stack import running_stack

LOGO = "/api/v1/branding/logo"  # public: anonymous callers are limited per client address


def anonymous_statuses(base: str, forwarded: list[str]) -> list[int]:
    return [
        httpx.get(f"{base}{LOGO}", headers={"X-Forwarded-For": ip}, timeout=10).status_code
        for ip in forwarded
    ]


def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit(tmp_path: Path):
    with running_stack(tmp_path, RATE_LIMIT_PER_MIN="2", TRUSTED_PROXIES="127.0.0.1") as stack:
        one_each = anonymous_statuses(stack.base, [f"203.0.113.{i}" for i in range(4)])
        same = anonymous_statuses(stack.base, ["198.51.100.7"] * 3)

    assert one_each == [404, 404, 404, 404]  # no logo yet: 404, and no 429
    assert same == [404, 404, 429]


def test_a_forwarded_for_header_from_an_untrusted_peer_changes_nothing(tmp_path: Path):
    with running_stack(tmp_path, RATE_LIMIT_PER_MIN="2", TRUSTED_PROXIES="10.0.0.0/8") as stack:
        forged = anonymous_statuses(stack.base, [f"203.0.113.{i}" for i in range(3)])

    assert forged == [404, 404, 429]  # one client (127.0.0.1), whatever it claims
