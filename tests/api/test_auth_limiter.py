"""The login attempt limiter: `loginAttemptLimit` failures per username, 3x that per IP."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import LoginFailure
from tests.api.support import assert_error
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/api/auth/login"
OFFICE_IP = "10.0.0.5"
HOME_IP = "10.9.9.9"


def assert_throttled(response, settings) -> int:
    body = assert_error(response, 429, "LOGIN_THROTTLED", frozenset({"retryAfter"}))
    wait = body["retryAfter"]
    assert isinstance(wait, int)
    assert 1 <= wait <= settings.LOGIN_COOLDOWN_S + 1
    assert response["Retry-After"] == str(wait)
    return wait


def login(client, username: str, password: str = PASSWORD, ip: str = OFFICE_IP):
    return client.post(
        LOGIN, {"username": username, "password": password}, format="json", REMOTE_ADDR=ip
    )


def fail(client, username: str, times: int, ip: str = OFFICE_IP) -> None:
    for _ in range(times):
        assert login(client, username, "wrong-password", ip).status_code == 401


@pytest.fixture
def limit_3(admin_client) -> None:
    """loginAttemptLimit = 3, set the way an operator does it."""
    response = admin_client.put("/api/v1/settings/loginAttemptLimit", {"value": 3}, format="json")
    assert response.status_code == 200
    assert response.json()["value"] == 3


def test_it_locks_a_username_out_after_the_limit_even_with_the_right_password(
    anon, user, limit_3, settings
):
    fail(anon, "alice", 3)

    assert_throttled(login(anon, "alice"), settings)


def test_it_allows_attempts_below_the_limit(anon, user, limit_3):
    fail(anon, "alice", 2)

    assert login(anon, "alice").status_code == 200


def test_the_lock_counts_failures_whatever_the_username_case(anon, user, limit_3, settings):
    fail(anon, "Alice", 1)
    fail(anon, "ALICE", 1)
    fail(anon, "alice", 1)

    assert_throttled(login(anon, "aLiCe"), settings)


def test_a_locked_username_does_not_lock_other_usernames(anon, user, other_user, limit_3):
    fail(anon, "alice", 3, ip=HOME_IP)

    assert login(anon, "bob", ip=OFFICE_IP).status_code == 200


def test_the_username_lock_applies_from_any_ip(anon, user, limit_3, settings):
    fail(anon, "alice", 3, ip=HOME_IP)

    assert_throttled(login(anon, "alice", ip=OFFICE_IP), settings)


def test_throttled_attempts_are_not_counted_as_failures(anon, user, limit_3):
    fail(anon, "alice", 3)
    for _ in range(5):
        assert login(anon, "alice", "wrong-password").status_code == 429

    assert LoginFailure.objects.filter(username="alice").count() == 3


def test_a_success_before_the_limit_clears_the_count(anon, user, limit_3):
    fail(anon, "alice", 2)
    assert login(anon, "alice").status_code == 200
    fail(anon, "alice", 2)

    assert login(anon, "alice").status_code == 200


def test_the_limit_comes_from_the_login_attempt_limit_setting(anon, user, settings):
    settings.LOGIN_ATTEMPT_LIMIT = 2
    fail(anon, "alice", 2)

    assert_throttled(login(anon, "alice"), settings)


def test_one_ip_is_locked_out_after_three_times_the_limit(anon, user, limit_3, settings):
    for n in range(9):  # nine different usernames: none reaches its own limit of 3
        fail(anon, f"ghost{n}", 1, ip=OFFICE_IP)

    assert_throttled(login(anon, "alice", ip=OFFICE_IP), settings)
    assert login(anon, "alice", ip=HOME_IP).status_code == 200


def test_an_ip_below_three_times_the_limit_is_not_locked(anon, user, limit_3):
    for n in range(8):
        fail(anon, f"ghost{n}", 1, ip=OFFICE_IP)

    assert login(anon, "alice", ip=OFFICE_IP).status_code == 200


def test_login_works_again_after_the_cool_down(anon, user, limit_3, settings):
    fail(anon, "alice", 3)
    assert_throttled(login(anon, "alice"), settings)

    LoginFailure.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S + 1)
    )

    assert login(anon, "alice").status_code == 200


def test_retry_after_counts_down_to_when_the_oldest_failure_ages_out(anon, user, limit_3, settings):
    fail(anon, "alice", 3)
    LoginFailure.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S - 60)
    )

    wait = assert_throttled(login(anon, "alice"), settings)

    assert 55 <= wait <= 62


def test_the_ip_lock_also_ends_after_the_cool_down(anon, user, limit_3, settings):
    for n in range(9):
        fail(anon, f"ghost{n}", 1, ip=OFFICE_IP)
    assert_throttled(login(anon, "alice", ip=OFFICE_IP), settings)

    LoginFailure.objects.update(
        created_at=timezone.now() - timedelta(seconds=settings.LOGIN_COOLDOWN_S + 1)
    )

    assert login(anon, "alice", ip=OFFICE_IP).status_code == 200


def test_a_login_attempt_limit_of_zero_disables_the_limiter(anon, user, admin_client):
    response = admin_client.put("/api/v1/settings/loginAttemptLimit", {"value": 0}, format="json")
    assert response.status_code == 200

    fail(anon, "alice", 40)

    assert login(anon, "alice").status_code == 200


def test_unknown_usernames_are_locked_out_like_real_ones(anon, user, limit_3, settings):
    fail(anon, "alice", 3, ip=HOME_IP)
    fail(anon, "nobody", 3, ip=HOME_IP)

    real = login(anon, "alice", "wrong-password")
    unknown = login(anon, "nobody", "wrong-password")

    assert_throttled(real, settings)
    assert_throttled(unknown, settings)
    assert real.json()["code"] == unknown.json()["code"]
    assert real.json()["error"] == unknown.json()["error"]


def test_a_guess_arriving_while_another_is_being_checked_counts_it(
    anon, user, limit_3, monkeypatch
):
    """The race of parallel guesses, played in order: while the third wrong password is
    being checked, a fourth guess arrives. Counted before checking, the fourth sees the
    third and is refused (checking first and recording after let both through)."""
    from apps.accounts import services

    fail(anon, "alice", 2)
    real_verify = services.verify_credentials
    nested: list = []

    def verify_with_a_parallel_guess(username: str, password: str):
        if not nested:
            nested.append(login(anon, "alice", "another-wrong-password"))
        return real_verify(username, password)

    monkeypatch.setattr(services, "verify_credentials", verify_with_a_parallel_guess)
    assert login(anon, "alice", "wrong-password").status_code == 401

    assert nested[0].status_code == 429
    assert LoginFailure.objects.filter(username="alice").count() == 3
