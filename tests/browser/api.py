"""httpx calls for the browser tests, with the live stack's patience: httpx's default 5 s
read timeout is too short while chromium, the test workers and the server share two cores
(a registration timed out in CI when a neighbouring worker crashed and was replaced)."""

from __future__ import annotations

import functools

import httpx

from tests.live.stack import WAIT_S

Response = httpx.Response
get = functools.partial(httpx.get, timeout=WAIT_S)
post = functools.partial(httpx.post, timeout=WAIT_S)
