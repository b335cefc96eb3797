"""DRF authentication by API key (`Authorization: Bearer si_…`)."""

import hmac
from datetime import timedelta

from django.utils import timezone
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from apps.accounts.authentication import require_password_changed
from apps.accounts.models import User
from apps.apikeys.models import ApiKey
from apps.core.memo import Memo, row_copier
from apps.core.tokens import bearer_token, sha256_hex
from apps.teams.models import Team

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Every request looks its key up: kept a few seconds (apps.core.memo). Revoking a key, or
# changing a user or team, in this process forgets them all at once.
KEYS: Memo[ApiKey] = Memo(copier=row_copier("user", "user__team"))
KEYS.forget_on(ApiKey, User, Team)


class ApiKeyAuthentication(BaseAuthentication):
    """Looks a key up by its SHA-256 and acts as the key's owner, with the owner's role.

    Subclasses read the key from another place (`key_of`): the compatibility APIs accept
    it in the headers their clients send (X-Api-Token, HTTP Basic)."""

    def key_of(self, request: Request) -> str | None:
        """The raw key this request carries, or None when it carries none here."""
        token = bearer_token(request)
        return token if token is not None and token.startswith("si_") else None

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        token = self.key_of(request)
        if token is None:
            return None
        digest = sha256_hex(token)
        key = KEYS.get(
            digest,
            lambda: (
                ApiKey.objects.select_related("user", "user__team").filter(key_hash=digest).first()
            ),
        )
        # The lookup is by hash, so timing reveals nothing of the key; compare anyway
        # in constant time so a future change of lookup cannot introduce a leak.
        if key is None or not hmac.compare_digest(key.key_hash, digest) or not key.user.is_active:
            raise AuthenticationFailed("Invalid API key")
        now = timezone.now()
        if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
            key.last_used_at = now
            KEYS.forget(digest)
        require_password_changed(request, key.user)
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="pixelsmith"'
