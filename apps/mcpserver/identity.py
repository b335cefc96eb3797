"""Who an MCP call acts as: always one user, found from a credential in our database.

- Streamable HTTP: `Authorization: Bearer si_…` (an API key) or a session token, checked
  per HTTP request by the same DRF authentication classes as /api/v1 (an inactive user,
  a deleted key or an expired session is 401; a password still to change is 403).
- stdio: the key in PIXELSMITH_API_KEY, or `--user <username>` (whoever can run
  manage.py on the server can read its database anyway). Looked up again on every call,
  so a deleted key or a deactivated user stops working at once.

With AUTH_ENABLED=false a caller without a credential acts as the anonymous user, as on
/api/v1; a credential that is present but wrong is still refused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import SessionTokenAuthentication
from apps.accounts.models import User
from apps.apikeys.authentication import ApiKeyAuthentication
from apps.core.errors import ApiError

API_KEY_ENV = "PIXELSMITH_API_KEY"


@dataclass(frozen=True)
class Caller:
    """The user a call acts as, and the base URL its links start with ("" when unknown:
    over stdio the links are paths on the Pixelsmith server)."""

    user: Any  # a User, or AnonymousUser when AUTH_ENABLED=false
    auth: Any = None  # the ApiKey or AuthSession that authenticated it
    base_url: str = ""


CallerSource = Callable[[], Caller]


def from_authorization(header: str, base_url: str = "") -> Caller:
    """The caller an `Authorization` header names; ApiError 401/403 otherwise."""
    django_request = HttpRequest()
    django_request.META["HTTP_AUTHORIZATION"] = header
    request = Request(django_request)
    try:
        for authenticator in (ApiKeyAuthentication(), SessionTokenAuthentication()):
            found = authenticator.authenticate(request)
            if found is not None:
                return Caller(user=found[0], auth=found[1], base_url=base_url)
    except AuthenticationFailed as exc:
        raise ApiError(401, "AUTH_INVALID", str(exc.detail)) from None
    if header.strip():
        raise ApiError(401, "AUTH_INVALID", "Send an API key: Authorization: Bearer si_…")
    if settings.AUTH_ENABLED:
        raise ApiError(401, "AUTH_REQUIRED", "Send an API key: Authorization: Bearer si_…")
    return Caller(user=AnonymousUser(), base_url=base_url)


def stdio_source(username: str | None, api_key: str | None, base_url: str = "") -> CallerSource:
    """What `manage.py mcp` acts as, resolved again on every call."""
    if api_key:
        return lambda: from_authorization(f"Bearer {api_key}", base_url)
    if username:
        return lambda: Caller(user=_active_user(username), base_url=base_url)
    if not settings.AUTH_ENABLED:
        return lambda: Caller(user=AnonymousUser(), base_url=base_url)
    raise ApiError(
        401, "AUTH_REQUIRED", f"Name the user: set {API_KEY_ENV}=si_… or pass --user <username>"
    )


def _active_user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None or not user.is_active:
        raise ApiError(401, "AUTH_INVALID", f"No active user named {username!r}")
    return user
