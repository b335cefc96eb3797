"""Login attempt limiter: `loginAttemptLimit` failures per username (or 3x that per IP)
within LOGIN_COOLDOWN_S seconds lock further attempts out with 429 until they age out.

Kept in the database (not a per-process cache) so every web process sees the same count.
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


def retry_after(username: str, ip: str | None) -> int | None:
    """Seconds the caller must wait before trying again, or None if allowed."""
    limit = int(get_setting("loginAttemptLimit"))
    if limit <= 0:
        return None
    waits = [_wait(LoginFailure.objects.filter(username=username.lower()), limit)]
    if ip:
        waits.append(_wait(LoginFailure.objects.filter(ip=ip), limit * IP_LIMIT_FACTOR))
    blocked = [w for w in waits if w is not None]
    return max(blocked) if blocked else None


def record_failure(username: str, ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower()[:150], ip=ip)


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


def purge_old() -> None:
    cutoff = timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S)
    LoginFailure.objects.filter(created_at__lt=cutoff).delete()
