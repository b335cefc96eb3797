"""Where the compatibility APIs' clients put a credential: always one of our API keys.

- `X-Api-Token: si_…`: the Jellyfin AI service's shared-secret header.
- `Authorization: Basic base64(user:si_…)`: Automatic1111 clients only know its
  `--api-auth user:password`; the password is the API key, the user name is not checked
  (the key alone names its owner, as it does as a bearer token).

A credential that is present but wrong is 401, never anonymous access.
"""

from __future__ import annotations

import base64
import binascii

from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import (
    BrowserSessionAuthentication,
    SessionTokenAuthentication,
)
from apps.apikeys.authentication import ApiKeyAuthentication


class ApiTokenHeaderAuthentication(ApiKeyAuthentication):
    """An API key in `X-Api-Token`."""

    def key_of(self, request: Request) -> str | None:
        return request.META.get("HTTP_X_API_TOKEN", "").strip() or None


class BasicApiKeyAuthentication(ApiKeyAuthentication):
    """An API key as the password of HTTP Basic."""

    def key_of(self, request: Request) -> str | None:
        scheme, _, encoded = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationFailed("Malformed HTTP Basic credentials") from None
        _, colon, password = decoded.partition(":")
        if not colon or not password:
            raise AuthenticationFailed("HTTP Basic needs user:API-key") from None
        return password

    def authenticate_header(self, request: Request) -> str:
        return 'Basic realm="pixelsmith"'


# Our own credentials first (bearer API key, bearer session, browser session), then the
# clients' headers. The first class's header is what a 401 announces.
STANDARD = [ApiKeyAuthentication, SessionTokenAuthentication, BrowserSessionAuthentication]
WITH_API_TOKEN = [*STANDARD, ApiTokenHeaderAuthentication]
WITH_BASIC = [BasicApiKeyAuthentication, *STANDARD]
