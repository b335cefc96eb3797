"""Account operations that touch several models: login, password changes, user admin."""

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from apps.accounts import limiter
from apps.accounts.models import ROLE_ADMIN, AuthSession, User
from apps.accounts.sessions import create_session, end_other_sessions
from apps.core.errors import ApiError
from apps.teams.models import Team


def user_json(user: User) -> dict[str, Any]:
    team = user.team
    return {
        "id": str(user.id),
        "username": user.username,
        "role": user.role,
        "team": team.name if team else None,
        "teamId": str(team.id) if team else None,
        "mustChangePassword": user.must_change_password,
        "createdAt": user.date_joined.isoformat(),
    }


def check_password_strength(password: str, user: User | None = None) -> None:
    """Django's validators (length ≥ 8, not common, not all digits, not like the username)."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        raise ApiError(400, "WEAK_PASSWORD", " ".join(exc.messages)) from None


def verify_credentials(username: str, password: str) -> User | None:
    """The active user with these credentials, or None — taking as long either way."""
    user = User.objects.select_related("team").filter(username__iexact=username).first()
    if user is None:
        # Hash anyway so a response's timing does not reveal that the user doesn't exist.
        User().set_password(password)
        return None
    if not user.check_password(password) or not user.is_active:
        return None
    return user


def sign_in(
    username: str, password: str, ip: str | None, user_agent: str
) -> tuple[str, AuthSession]:
    """A new session for these credentials (API login and the browser's sign-in page alike):
    401 INVALID_CREDENTIALS, or 429 LOGIN_THROTTLED (with `retryAfter`) after too many
    failures for this username or address."""
    attempt = limiter.begin_attempt(username, ip)
    wait = limiter.retry_after(username, ip, attempt)
    if wait is not None:
        attempt.delete()  # a throttled attempt does not extend the lock-out
        raise ApiError(
            429,
            "LOGIN_THROTTLED",
            "Too many failed login attempts. Try again later.",
            retryAfter=wait,
        )
    user = verify_credentials(username, password)
    if user is None:  # the attempt's record stays: it was a failure
        raise ApiError(401, "INVALID_CREDENTIALS", "Invalid username or password")
    limiter.clear_failures(username)  # this attempt's record too
    return create_session(user, ip, user_agent)


def resolve_team(value: str | None) -> Team:
    """A team by id or (case-insensitive) name; the default team when not given."""
    if not value:
        return Team.default()
    team = Team.objects.filter(name__iexact=value).first()
    if team is None:
        try:
            team = Team.objects.filter(pk=value).first()
        except DjangoValidationError:
            team = None
    if team is None:
        raise ApiError(400, "VALIDATION_ERROR", f"Team not found: {value}")
    return team


def revoke_credentials(user: User, keep: AuthSession | None = None) -> None:
    """End the user's sessions (but `keep`) and delete all their API keys."""
    end_other_sessions(user, keep)
    user.api_keys.all().delete()


@transaction.atomic
def change_password(user: User, current: str, new: str, keep: AuthSession | None) -> None:
    if not user.check_password(current):
        raise ApiError(400, "INVALID_PASSWORD", "Current password is incorrect")
    if current == new:
        raise ApiError(400, "PASSWORD_UNCHANGED", "New password must differ from the current one")
    check_password_strength(new, user)
    user.set_password(new)
    user.must_change_password = False
    user.save(update_fields=["password", "must_change_password"])
    revoke_credentials(user, keep)


def other_admins_exist(user: User) -> bool:
    return User.objects.filter(role=ROLE_ADMIN, is_active=True).exclude(pk=user.pk).exists()
