"""apps.core.memo: a few seconds' memory of the rows every request reads, and what it
must never do (serve a logged-out session, a tool disabled since, a caller's edits).

Tests that need the memo to keep anything run outside a transaction: pytest-django's
default django_db wraps each test in one, where the memo always loads."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from apps.accounts.models import AuthSession
from apps.accounts.sessions import SESSIONS, create_session
from apps.core.memo import Memo, row_copier
from apps.core.tokens import sha256_hex
from apps.siteconfig.models import SiteSetting
from apps.siteconfig.registry import STORED
from tests.api.jobs_support import post_tool
from tests.api.support import assert_error

transactional = pytest.mark.django_db(transaction=True)


class Loader:
    """A loader that counts its calls and returns a new dict each time."""

    def __init__(self, value: Any = "v") -> None:
        self.calls = 0
        self.value = value

    def __call__(self) -> Any:
        self.calls += 1
        return None if self.value is None else {"value": self.value, "call": self.calls}


# --- the memo alone (no database: never inside a transaction) ---------------------------


def test_a_value_is_loaded_once_within_its_ttl() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    load = Loader()

    first = memo.get("k", load)
    second = memo.get("k", load)

    assert load.calls == 1
    assert first == second == {"value": "v", "call": 1}


def test_a_value_is_loaded_again_after_its_ttl() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=0.05)
    load = Loader()
    memo.get("k", load)

    time.sleep(0.1)

    assert memo.get("k", load) == {"value": "v", "call": 2}
    assert load.calls == 2


def test_keys_are_kept_apart() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    one, two = Loader("one"), Loader("two")
    assert memo.get("a", one) == {"value": "one", "call": 1}
    assert memo.get("b", two) == {"value": "two", "call": 1}
    again = memo.get("a", one)
    assert again is not None and again["value"] == "one"
    assert (one.calls, two.calls) == (1, 1)


def test_nothing_found_is_not_kept() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    load = Loader(None)

    assert memo.get("k", load) is None
    assert memo.get("k", load) is None

    assert load.calls == 2
    assert memo.entries == {}


def test_callers_get_copies_their_changes_do_not_reach_the_next_caller() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    load = Loader()

    loaded = memo.get("k", load)  # the loader's own object
    assert loaded is not None
    loaded["value"] = "changed by the first caller"
    kept = memo.get("k", load)  # a copy of what was kept
    assert kept is not None
    kept["value"] = "changed by the second caller"

    assert memo.get("k", load) == {"value": "v", "call": 1}
    assert load.calls == 1


def test_forget_and_clear() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    load = Loader()
    memo.get("a", load)
    memo.get("b", load)

    memo.forget("a")
    memo.get("a", load)
    memo.get("b", load)
    assert load.calls == 3  # only "a" was loaded again

    memo.clear()
    memo.get("b", load)
    assert load.calls == 4


# --- with the database --------------------------------------------------------------------


@transactional
def test_row_copier_gives_each_caller_its_own_user_and_team(user) -> None:
    token, _ = create_session(user)
    digest = sha256_hex(token)
    memo: Memo[AuthSession] = Memo(ttl_s=60, copier=row_copier("user", "user__team"))

    def load() -> AuthSession | None:
        return AuthSession.objects.select_related("user", "user__team").get(token_hash=digest)

    memo.get(digest, load)
    got = memo.get(digest, load)
    kept = memo.entries[digest][1]

    assert got is not None and got is not kept
    assert got.pk == kept.pk and got.user.pk == kept.user.pk == user.pk
    assert got.user is not kept.user
    assert got.user.team is not None and kept.user.team is not None
    assert got.user.team is not kept.user.team and got.user.team.pk == user.team_id
    got.user.username = "mallory"
    got.user.team.name = "renamed"
    again = memo.get(digest, load)
    assert again is not None and again.user.team is not None and user.team is not None
    assert (again.user.username, again.user.team.name) == (user.username, user.team.name)


@pytest.fixture
def settings_memo() -> Iterator[Memo[dict[str, Any]]]:
    """A memo that forgets on SiteSetting writes; its receivers are disconnected after."""
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    memo.forget_on(SiteSetting)
    yield memo
    uid = f"memo-{id(memo)}-{SiteSetting._meta.label}"
    post_save.disconnect(sender=SiteSetting, dispatch_uid=uid)
    post_delete.disconnect(sender=SiteSetting, dispatch_uid=uid)


@transactional
def test_forget_on_clears_on_that_models_save_and_delete(settings_memo) -> None:
    load = Loader()
    settings_memo.get("k", load)
    settings_memo.get("k", load)
    assert load.calls == 1

    row = SiteSetting.objects.create(key="loginAttemptLimit", value=3)
    assert settings_memo.entries == {}
    settings_memo.get("k", load)
    assert load.calls == 2

    row.delete()
    assert settings_memo.entries == {}
    settings_memo.get("k", load)
    assert load.calls == 3


@transactional
def test_forget_on_ignores_other_models(settings_memo, user) -> None:
    load = Loader()
    settings_memo.get("k", load)
    create_session(user)  # an AuthSession row: not what this memo forgets on
    settings_memo.get("k", load)
    assert load.calls == 1


@transactional
def test_inside_a_transaction_the_memo_neither_reads_nor_keeps() -> None:
    memo: Memo[dict[str, Any]] = Memo(ttl_s=60)
    load = Loader()
    memo.get("kept", load)  # outside: kept

    with transaction.atomic():
        assert memo.get("kept", load) == {"value": "v", "call": 2}  # not read: loaded
        memo.get("new", load)
        memo.get("new", load)
        assert load.calls == 4
        assert set(memo.entries) == {"kept"}  # what a transaction read is not kept

    assert memo.get("kept", load) == {"value": "v", "call": 1}  # kept from before
    assert load.calls == 4


# --- through the API ----------------------------------------------------------------------


@transactional
def test_after_logout_the_same_token_is_refused_at_once(client_for, user, session_token) -> None:
    token = session_token(user)
    client = client_for(token)
    assert client.get("/api/auth/session").status_code == 200
    assert sha256_hex(token) in SESSIONS.entries  # just used: the memo holds the session

    assert client.post("/api/auth/logout").status_code == 200

    assert_error(client.get("/api/auth/session"), 401, "AUTH_INVALID")
    assert not AuthSession.objects.filter(token_hash=sha256_hex(token)).exists()


@transactional
def test_a_tool_disabled_by_an_admin_is_refused_at_once(admin_client, user_client) -> None:
    assert post_tool(user_client, "resize", {"width": 20}).status_code == 200
    assert "all" in STORED.entries  # the tool call read (and the memo kept) the settings

    disable = admin_client.put("/api/v1/settings", {"disabledTools": ["resize"]}, format="json")
    assert disable.status_code == 200, disable.content[:300]

    assert_error(post_tool(user_client, "resize", {"width": 20}), 403, "TOOL_DISABLED")
