"""RATE_LIMIT_PER_MIN per API key, else per user, else per client IP."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.request import Request

from apps.core.tokens import client_ip

if TYPE_CHECKING:  # importing DRF views here would be circular (DRF loads this at start-up)
    from rest_framework.views import APIView
from rest_framework.throttling import SimpleRateThrottle


class ApiRateThrottle(SimpleRateThrottle):
    """A sliding one-minute window in the cache; RATE_LIMIT_PER_MIN=0 turns it off."""

    scope = "api"

    def get_rate(self) -> str | None:
        # Read at request time so an operator's (or a test's) setting applies at once.
        limit = settings.RATE_LIMIT_PER_MIN
        return f"{limit}/min" if limit > 0 else None

    def get_cache_key(self, request: Request, view: APIView) -> str:
        auth = request.auth
        if auth is not None and getattr(auth, "is_api_key", False):
            ident = f"key:{auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            # Not DRF's get_ident: without NUM_PROXIES it trusts X-Forwarded-For, which any
            # client can forge to get a fresh bucket. Behind a proxy, uvicorn's
            # --proxy-headers already puts the real client in REMOTE_ADDR.
            ident = f"ip:{client_ip(request) or 'unknown'}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
