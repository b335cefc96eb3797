"""Login attempt limiter: `loginAttemptLimit` failures per username (or 3x that per IP)
within LOGIN_COOLDOWN_S seconds lock further attempts out with 429 until they age out.

Kept in the database (not a per-process cache) so every web process sees the same count.
An attempt is recorded *before* it is checked (`begin_attempt`): parallel guesses then
see each other, so no more than the limit get as far as the password check. A throttled
attempt takes its record back (it must not extend the lock-out); a successful one clears
the count.
"""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import LoginFailure
from apps.siteconfig.registry import get_setting

# Many people may share one office IP: one typo-prone colleague must not lock them all out.
IP_LIMIT_FACTOR = 3


def _wait(failures: "QuerySet[LoginFailure]", limit: int) -> int | None:
    """Seconds until the limit-th most recent failure leaves the window, if at the limit."""
    window_start = timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S)
    recent = list(
        failures.filter(created_at__gte=window_start)
        .order_by("-created_at")
        .values_list("created_at", flat=True)[:limit]
    )
    if len(recent) < limit:
        return None
    frees_at = recent[-1] + timedelta(seconds=settings.LOGIN_COOLDOWN_S)
    return max(1, int((frees_at - timezone.now()).total_seconds()) + 1)


def retry_after(username: str, ip: str | None, attempt: LoginFailure | None = None) -> int | None:
    """Seconds the caller must wait before trying again, or None if allowed. `attempt` is
    this caller's own record (begin_attempt), counted on top of the limit."""
    limit = int(get_setting("loginAttemptLimit"))
    if limit <= 0:
        return None
    extra = 1 if attempt is not None else 0
    waits = [_wait(LoginFailure.objects.filter(username=username.lower()), limit + extra)]
    if ip:
        waits.append(_wait(LoginFailure.objects.filter(ip=ip), limit * IP_LIMIT_FACTOR + extra))
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def begin_attempt(username: str, ip: str | None) -> LoginFailure:
    """Record an attempt as failed until it succeeds: counted before it is checked."""
    return LoginFailure.objects.create(username=username.lower()[:150], ip=ip)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


def purge_old() -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S)
    LoginFailure.objects.filter(created_at__lt=cutoff).delete()
