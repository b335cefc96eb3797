"""Create, find and end login sessions (opaque random tokens, stored hashed)."""

import secrets
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from apps.accounts.models import AuthSession, User
from apps.core.memo import Memo, row_copier
from apps.core.tokens import sha256_hex
from apps.teams.models import Team

# API keys start with this; a session token that did would be taken for a key and refused.
API_KEY_PREFIX = "si_"


def new_session_token() -> str:
    """A random bearer token that can never be mistaken for an API key."""
    while True:
        token = secrets.token_urlsafe(32)
        if not token.startswith(API_KEY_PREFIX):
            return token


def create_session(
    user: User, ip: str | None = None, user_agent: str = ""
) -> tuple[str, AuthSession]:
    """A new session for `user`; returns the raw token (shown once) and the row."""
    token = new_session_token()
    session = AuthSession.objects.create(
        user=user,
        token_hash=sha256_hex(token),
        expires_at=timezone.now() + timedelta(hours=settings.SESSION_TTL_HOURS),
        ip=ip,
        user_agent=user_agent[:255],
    )
    return token, session


# Every request looks its session up: kept a few seconds (apps.core.memo). Ending a
# session, or changing a user or team, in this process forgets them all at once.
SESSIONS: Memo[AuthSession] = Memo(copier=row_copier("user", "user__team"))
SESSIONS.forget_on(AuthSession, User, Team)


def find_session(token: str) -> AuthSession | None:
    """The live session for a raw token; expired sessions are deleted on sight."""
    digest = sha256_hex(token)
    session = SESSIONS.get(
        digest,
        lambda: (
            AuthSession.objects.select_related("user", "user__team")
            .filter(token_hash=digest)
            .first()
        ),
    )
    if session is None:
        return None
    if session.expires_at <= timezone.now():
        session.delete()
        return None
    return session


def end_other_sessions(user: User, keep: AuthSession | None) -> None:
    sessions = AuthSession.objects.filter(user=user)
    if keep is not None:
        sessions = sessions.exclude(pk=keep.pk)
    sessions.delete()


def purge_expired() -> int:
    deleted, _ = AuthSession.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
