"""Shared fixtures: isolated DATA_DIR, users of each role, authenticated clients."""

from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.accounts.sessions import create_session
from apps.apikeys.models import ApiKey
from apps.apikeys.views import new_raw_key
from apps.core.tokens import sha256_hex
from tests.factories import UserFactory

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path: Path) -> None:
    """Each test gets its own DATA_DIR (library storage included), fast password hashing,
    no rate limit and no free-space reserve."""
    settings.DATA_DIR = tmp_path / "data"
    settings.MODELS_DIR = tmp_path / "data" / "models"
    settings.MODEL_WHEELS_DIR = tmp_path / "data" / "models" / ".wheels"
    settings.TMP_DIR = tmp_path / "data" / "tmp"
    settings.TMP_DIR.mkdir(parents=True)
    settings.FILE_UPLOAD_TEMP_DIR = str(settings.TMP_DIR)
    settings.STORAGES = {
        **settings.STORAGES,
        "library": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "data" / "library"), "allow_overwrite": True},
        },
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.RATE_LIMIT_PER_MIN = 0
    settings.MIN_FREE_DISK_MB = 0  # the test machine's disk is not ours to judge


@pytest.fixture(autouse=True)
def _queue_runs_inline(monkeypatch: pytest.MonkeyPatch) -> None:
    """django-q2's sync mode: a queued task runs at once in this process, on the test's
    database connection. Tests of the real worker (tests/live) start scripts/serve.sh instead."""
    from django_q.conf import Conf

    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture(autouse=True)
def _clear_cache() -> None:
    """The cache, and the few seconds' memory of sessions, API keys and settings
    (apps.core.memo): transactional tests empty tables without a signal to forget by."""
    from django.core.cache import cache

    from apps.accounts.sessions import SESSIONS
    from apps.apikeys.authentication import KEYS
    from apps.siteconfig.registry import STORED

    cache.clear()
    for memo in (SESSIONS, KEYS, STORED):
        memo.clear()


@pytest.fixture
def admin_user(db) -> User:
    return UserFactory(username="boss", role="admin")


@pytest.fixture
def user(db) -> User:
    return UserFactory(username="alice", role="user")


@pytest.fixture
def other_user(db) -> User:
    return UserFactory(username="bob", role="user")


def _client(token: str | None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


@pytest.fixture
def session_token() -> Callable[[User], str]:
    return lambda u: create_session(u)[0]


@pytest.fixture
def api_key_for() -> Callable[[User], str]:
    def make(u: User) -> str:
        raw = new_raw_key()
        ApiKey.objects.create(user=u, name="test", key_hash=sha256_hex(raw), prefix=raw[:11])
        return raw

    return make


@pytest.fixture
def anon() -> APIClient:
    return _client(None)


@pytest.fixture
def admin_client(admin_user: User) -> APIClient:
    return _client(create_session(admin_user)[0])


@pytest.fixture
def user_client(user: User) -> APIClient:
    return _client(create_session(user)[0])


@pytest.fixture
def client_for() -> Callable[[str | None], APIClient]:
    return _client


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir() -> None:
    """pytest-playwright's own fixture of this name empties the output folder in every test
    process as it starts, which can delete the screenshots another xdist worker has just
    written there; the browser tests overwrite their screenshots by name instead."""
