"""The database settings: a connection pool for PostgreSQL, none for SQLite, DB_POOL_* read
from the environment; a forked process gets a pool of its own; an exhausted pool is a 503.

Settings are read once per process, so each case imports them in a fresh interpreter.
tests/live/test_db_pool.py checks the pool under load, against the real server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import OperationalError
from django.http import HttpResponse
from psycopg_pool import PoolTimeout

from apps.core.middleware import DatabaseBusyMiddleware
from tests.api.support import assert_error
from tests.live.stack import ROOT, postgres_url

SHOW_DATABASE = (
    "import json, config.settings as s; print(json.dumps(s.DATABASES['default'], default=str))"
)


def run_python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DB_POOL_"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DATA_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def database(tmp_path: Path, **env: str) -> dict[str, Any]:
    done = run_python(SHOW_DATABASE, tmp_path, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_postgresql_gets_a_pool_sized_by_the_environment(tmp_path):
    db = database(
        tmp_path,
        DATABASE_URL="postgres://u:p@db.example:5432/pixelsmith",
        DB_POOL_MIN_SIZE="2",
        DB_POOL_MAX_SIZE="7",
        DB_POOL_TIMEOUT_S="3",
    )
    assert db["ENGINE"] == "django.db.backends.postgresql"
    assert db["OPTIONS"]["pool"] == {"min_size": 2, "max_size": 7, "timeout": 3}
    assert db["OPTIONS"]["application_name"] == "pixelsmith"
    assert db["CONN_MAX_AGE"] == 0  # Django refuses a pool with persistent connections
    assert db["CONN_HEALTH_CHECKS"] is True  # the pool checks a connection before lending it


def test_the_pool_defaults(tmp_path):
    db = database(tmp_path, DATABASE_URL="postgres://u@db.example/pixelsmith")
    assert db["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 10, "timeout": 10}


def test_sqlite_has_no_pool(tmp_path):
    embedded = database(tmp_path)
    assert embedded["ENGINE"] == "django.db.backends.sqlite3"
    assert embedded["NAME"] == str(tmp_path / "pixelsmith.sqlite3")
    assert "pool" not in embedded["OPTIONS"]
    assert embedded["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    from_url = database(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/other.sqlite3")
    assert from_url["ENGINE"] == "django.db.backends.sqlite3"
    assert "pool" not in from_url.get("OPTIONS", {})
    # Kept open for reuse: the ASGI handler runs requests on reused threads (apps.core.asgi).
    assert from_url["CONN_MAX_AGE"] == embedded["CONN_MAX_AGE"] == 600


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DB_POOL_MAX_SIZE": "ten"}, "DB_POOL_MAX_SIZE must be an integer"),
        ({"DB_POOL_MAX_SIZE": "0"}, "DB_POOL_MAX_SIZE must be at least 1"),
        ({"DB_POOL_MIN_SIZE": "-1"}, "DB_POOL_MIN_SIZE must be at least 0"),
        ({"DB_POOL_TIMEOUT_S": "0"}, "DB_POOL_TIMEOUT_S must be at least 1"),
        (
            {"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"},
            "DB_POOL_MAX_SIZE (4) must be at least DB_POOL_MIN_SIZE (5)",
        ),
    ],
)
def test_a_bad_pool_setting_stops_start_up(tmp_path, env, message):
    done = run_python(SHOW_DATABASE, tmp_path, DATABASE_URL="postgres://u@db/p", **env)
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and message in done.stderr


FORK_CHECK = """
import os, django
django.setup()
from django.db import connection

def backend():
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]

parent = backend()
connection.close()  # back to the pool, idle: what a forked child would find there
read, write = os.pipe()
child = os.fork()
if child == 0:
    os.write(write, str(backend()).encode())
    connection.close()
    os._exit(0)
os.waitpid(child, 0)
print(parent, os.read(read, 100).decode(), backend())
"""


def test_a_forked_process_does_not_share_its_parents_connections(tmp_path):
    """django-q2 forks its workers: a child must not take the parent's pooled connections,
    whose sockets the parent goes on using."""
    url = postgres_url()
    try:
        psycopg.connect(url, connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.fail(f"this test needs PostgreSQL at {url} (DATABASE_URL): {exc}")
    done = run_python(FORK_CHECK, tmp_path, DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    parent, child, parent_again = done.stdout.split()
    assert child not in (parent, parent_again)
    # The parent still works after its child has gone. (Its pool may have opened a second
    # connection meanwhile, so parent_again need not equal parent.)
    assert parent_again.isdigit()


def pool_timeout() -> OperationalError:
    """What Django raises when the pool had no connection in time."""
    try:
        raise OperationalError("couldn't get a connection after 10.00 sec") from PoolTimeout()
    except OperationalError as exc:
        return exc


def test_an_exhausted_pool_is_a_503_for_an_api_view(user_client, monkeypatch):
    def busy() -> None:
        raise pool_timeout()

    monkeypatch.setattr("apps.siteconfig.views.all_settings", busy)
    response = user_client.get("/api/v1/settings")
    body = assert_error(response, 503, "DATABASE_BUSY", extra=["retryAfter"])
    assert body["retryAfter"] == 1
    assert response["Retry-After"] == "1"


def test_an_exhausted_pool_is_a_503_for_a_plain_view(user_client, monkeypatch):
    def busy(request: Any) -> None:
        raise pool_timeout()

    monkeypatch.setattr("apps.jobs.sse.credentials", busy)  # the SSE view is a plain async view
    response = user_client.get(f"/api/v1/jobs/{uuid.uuid4()}/progress")
    body = assert_error(response, 503, "DATABASE_BUSY", extra=["retryAfter"])
    assert body["retryAfter"] == 1
    assert response["Retry-After"] == "1"


def test_other_database_errors_are_left_to_the_500_handler(rf):
    middleware = DatabaseBusyMiddleware(lambda request: HttpResponse())
    request = rf.get("/api/v1/jobs/x/progress")
    assert middleware.process_exception(request, OperationalError("connection refused")) is None


def test_health_reports_an_exhausted_pool_as_busy(anon, settings, monkeypatch, db):
    class BusyConnection:
        def cursor(self) -> Any:
            raise pool_timeout()

    monkeypatch.setattr("apps.core.views.connection", BusyConnection())
    response = anon.get("/api/v1/health")
    assert response.status_code == 503
    assert response["Retry-After"] == "1"
    assert response.json() == {"status": "error", "version": settings.VERSION, "database": "busy"}
