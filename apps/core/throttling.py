"""RATE_LIMIT_PER_MIN per API key, else per user, else per client IP.

Counted with the cache's atomic increment (Redis INCR in production; the local-memory
cache's under a lock), so parallel requests cannot all read the same count and pass
together, as a read-then-write history could. The window slides: the previous minute's
count weighs by the part of it still inside the last 60 s (the "sliding window counter").
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from apps.core.tokens import client_ip

if TYPE_CHECKING:  # importing DRF views here would be circular (DRF loads this at start-up)
    from rest_framework.views import APIView

WINDOW_S = 60


def seconds_until_allowed(count: int, previous: int, into: float, limit: int) -> float:
    """When one more request fits: `count` requests in this window so far, `previous` in
    the last, `into` seconds into this one. Later in this window, if the previous window's
    fading weight is what is in the way; else in the next, once this one's has faded."""
    room = limit - 1 - count  # what the previous window's weight may still take
    if room >= 0 and previous > 0:
        return max(WINDOW_S * (1 - room / previous) - into, 0.0)
    fits_at = WINDOW_S * max(0.0, 1 - (limit - 1) / count) if count else 0.0
    return WINDOW_S - into + fits_at


class ApiRateThrottle(BaseThrottle):
    """RATE_LIMIT_PER_MIN=0 turns it off (read per request, so a change applies at once)."""

    def __init__(self) -> None:
        self.retry_after: float | None = None

    timer = staticmethod(time.time)

    def allow_request(self, request: Request, view: APIView) -> bool:
        limit = settings.RATE_LIMIT_PER_MIN
        if limit <= 0:
            return True
        window, into = divmod(self.timer(), WINDOW_S)
        key = f"throttle:api:{self.ident(request)}"
        current = f"{key}:{int(window)}"
        cache.add(current, 0, timeout=2 * WINDOW_S)
        count = cache.incr(current)
        previous = cache.get(f"{key}:{int(window) - 1}", 0)
        if count + previous * (1 - into / WINDOW_S) <= limit:
            return True
        cache.decr(current)  # a refused request does not count against the next ones
        self.retry_after = seconds_until_allowed(count - 1, previous, into, limit)
        return False

    def wait(self) -> float | None:
        return self.retry_after

    def ident(self, request: Request) -> str:
        auth = request.auth
        if auth is not None and getattr(auth, "is_api_key", False):
            return f"key:{auth.pk}"
        if request.user and request.user.is_authenticated:
            return f"user:{request.user.pk}"
        # Not DRF's get_ident: without NUM_PROXIES it trusts X-Forwarded-For, which any
        # client can forge to get a fresh bucket. Behind a proxy, uvicorn's
        # --proxy-headers already puts the real client in REMOTE_ADDR.
        return f"ip:{client_ip(request) or 'unknown'}"
