"""Assertions every API test module shares."""

from collections.abc import Iterable
from typing import Any


def assert_error(response: Any, status: int, code: str, extra: Iterable[str] = ()) -> dict:
    """`status`, JSON, and exactly {"error": a message, "code": `code`} plus the documented
    `extra` keys (retryAfter, known…); returns the body."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error", "code", *extra}, body
    assert isinstance(body["error"], str) and body["error"]
    assert body["code"] == code, body
    return body


def error_message(response: Any, status: int, code: str, extra: Iterable[str] = ()) -> str:
    """`assert_error`, returning the human message."""
    return str(assert_error(response, status, code, extra)["error"])
