"""PostgreSQL connections under load, against the real stack (scripts/serve.sh) on PostgreSQL.

Under ASGI each request runs in a thread of its own; persistent connections were never
reused, only left open, until PostgreSQL ran out of slots and every request failed. Each
process now takes its connections from a pool of DB_POOL_MAX_SIZE. These tests count what
each process of the stack really holds (its TCP connections to PostgreSQL, read from /proc)
and what the server sees (pg_stat_activity), during a burst of requests and while SSE
streams stay open.

The stack gets a database of its own, created here and dropped afterwards: pytest-django's
is test_<name> (test_<name>_gwN under xdist), and two xdist workers may each start a stack.
When DATABASE_URL is not PostgreSQL the tests use stack.LOCAL_POSTGRES, and fail, not skip,
when no PostgreSQL answers there.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.live.stack import WAIT_S, Stack, postgres_url, proc_stat, running_stack, wait_until

pytestmark = pytest.mark.live

WEB_WORKERS = 2
POOL_MAX = 4  # DB_POOL_MAX_SIZE: small, so that a leak shows after a few requests
APPLICATION_NAME = "pixelsmith"  # what config/settings.py names its connections
TEST_CLIENT = "pixelsmith-tests"  # this module's own connections
BURST = 400
CONCURRENCY = 40
LOGINS = 4
STREAMS = 20


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """A fresh database on the PostgreSQL server; yields its URL, drops it afterwards."""
    url = postgres_url()
    try:
        admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"the connection-pool tests need PostgreSQL at {url} (DATABASE_URL): {exc}")
    name = f"pixelsmith_live_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlsplit(url)._replace(path=f"/{name}").geturl()
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
            admin.execute(drop.format(sql.Identifier(name)))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, server_url: str) -> Iterator[Stack]:
    with running_stack(
        tmp_path_factory.mktemp("db-pool"),
        DATABASE_URL=server_url,
        WEB_WORKERS=str(WEB_WORKERS),
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE=str(POOL_MAX),
        # Short, so that a starved pool shows as 503s within the test rather than a hang.
        DB_POOL_TIMEOUT_S="5",
        LOG_LEVEL="WARNING",
    ) as stack:
        yield stack


@pytest.fixture(scope="module")
def auth(stack: Stack) -> dict[str, str]:
    return stack.login()


# --- who holds which connection ----------------------------------------------------------


def parent_pids() -> dict[int, int]:
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = proc_stat(int(stat.parent.name))
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    return parents


def descendants(root: int) -> list[int]:
    parents = parent_pids()
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += children
        frontier = children
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def postgres_sockets(port: int) -> set[str]:
    """Inodes of the established TCP connections to `port` (the PostgreSQL server's)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            next(fh)
            for line in fh:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    return inodes


def held_connections(pid: int, sockets: set[str]) -> int:
    count = 0
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd)
            if target.startswith("socket:[") and target[8:-1] in sockets:
                count += 1
    except OSError:
        pass  # the process ended meanwhile
    return count


class Census:
    """Samples, every few milliseconds, the connections each process of the stack holds and
    those pg_stat_activity shows for its database; remembers the most of each."""

    def __init__(self, stack: Stack, database_url: str) -> None:
        self.port = urlsplit(database_url).port or 5432
        self.database = urlsplit(database_url).path.lstrip("/")
        assert stack.process is not None
        self.processes = descendants(stack.process.pid)
        # serve.sh's process runs uvicorn's supervisor, which spawns the web workers; its
        # other descendants are the job worker's session.
        assert stack.worker_pid is not None
        job_worker = {stack.worker_pid, *descendants(stack.worker_pid)}
        self.web = [
            pid
            for pid in self.processes
            if pid not in job_worker and "spawn_main" in command_line(pid)
        ]
        assert len(self.web) >= WEB_WORKERS, [command_line(pid) for pid in self.processes]
        self.server = psycopg.connect(postgres_url(), autocommit=True, application_name=TEST_CLIENT)
        self.most_per_process: dict[int, int] = {}
        self.most_web = 0
        self.most_seen_by_server = 0
        self.unnamed = 0  # connections without application_name "pixelsmith"
        self.samples = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def seen_by_server(self) -> int:
        """Connections to the stack's database: nobody else uses it, but this test."""
        row = self.server.execute(
            "SELECT count(*), count(*) FILTER (WHERE application_name = %s)"
            " FROM pg_stat_activity WHERE datname = %s AND application_name <> %s",
            (APPLICATION_NAME, self.database, TEST_CLIENT),
        ).fetchone()
        assert row is not None
        total, named = row
        self.unnamed = max(self.unnamed, total - named)
        return int(total)

    def sample(self) -> None:
        sockets = postgres_sockets(self.port)
        held = {pid: held_connections(pid, sockets) for pid in self.processes}
        for pid, count in held.items():
            self.most_per_process[pid] = max(self.most_per_process.get(pid, 0), count)
        self.most_web = max(self.most_web, sum(held[pid] for pid in self.web))
        self.most_seen_by_server = max(self.most_seen_by_server, self.seen_by_server())
        self.samples += 1

    def run(self) -> None:
        while not self.stopped.wait(0.02):
            self.sample()

    def __enter__(self) -> Census:
        self.sample()
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()
        self.sample()  # once more, after the load
        self.server.close()

    def assert_within_the_pools(self) -> None:
        """Each web worker held at most its pool. (Its count is exact: uvicorn spawns its
        workers. django-q2 forks its processes, which so also hold their parent's sockets:
        those are counted on the server's side only.)"""
        report = {pid: (n, command_line(pid)[-50:]) for pid, n in self.most_per_process.items()}
        assert max(self.most_per_process[pid] for pid in self.web) <= POOL_MAX, report
        assert self.most_web <= WEB_WORKERS * POOL_MAX, report
        assert self.most_seen_by_server <= POOL_MAX * len(self.processes), (
            self.most_seen_by_server,
            report,
        )
        assert self.unnamed == 0  # pg_stat_activity tells Pixelsmith's connections apart


def in_threads(count: int, workers: int, call: Callable[[int], Any]) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(call, range(count)))


# --- the tests ---------------------------------------------------------------------------


def test_a_burst_of_requests_stays_within_the_pools_and_gets_no_5xx(stack, server_url):
    client = httpx.Client(timeout=WAIT_S, limits=httpx.Limits(max_connections=CONCURRENCY))

    def request(i: int) -> int:
        if i % (BURST // LOGINS) == 0:
            body = {"username": "admin", "password": stack.password}
            return client.post(f"{stack.base}/api/auth/login", json=body).status_code
        return client.get(f"{stack.base}/api/v1/health").status_code

    with client, Census(stack, server_url) as census:
        statuses = in_threads(BURST, CONCURRENCY, request)

    assert sorted(set(statuses)) == [200], {s: statuses.count(s) for s in set(statuses)}
    assert census.samples > 5
    census.assert_within_the_pools()


def test_open_progress_streams_do_not_hold_connections(stack, server_url, auth):
    # A queued job that no worker will take (no gpu worker runs), so its streams stay open.
    job_id = stack.manage(
        "shell",
        "-c",
        "from apps.accounts.models import User; from apps.jobs.models import Job; "
        "owner = User.objects.get(username='admin'); "
        "print(Job.objects.create(owner=owner, tool_id='resize', queue='gpu').pk)",
    ).split()[-1]  # after what the shell says about its automatic imports
    url = f"{stack.base}/api/v1/jobs/{job_id}/progress"
    started: list[int] = []

    def watch(_: int) -> tuple[int, list[dict[str, Any]]]:
        """The stream's status and events, read until the server ends it."""
        with httpx.stream("GET", url, headers=auth, timeout=WAIT_S) as response:
            events = []
            for line in response.iter_lines():
                if line.startswith("data: "):
                    events.append(json.loads(line.removeprefix("data: ")))
                    if len(events) == 1:
                        started.append(response.status_code)
            if not events:
                started.append(response.status_code)
            return response.status_code, events

    pool = ThreadPoolExecutor(STREAMS)
    with Census(stack, server_url) as census:
        streams = [pool.submit(watch, i) for i in range(STREAMS)]
        try:
            wait_until(lambda: len(started) == STREAMS, "every stream's first event", 15)
            time.sleep(1.5)  # three polls of every stream
            health = [httpx.get(f"{stack.base}/api/v1/health", timeout=WAIT_S) for _ in range(5)]
        finally:
            # The job ends: every stream still polling sends that event and stops.
            with psycopg.connect(server_url, autocommit=True, application_name=TEST_CLIENT) as db:
                db.execute("UPDATE jobs_job SET status = 'completed' WHERE id = %s", (job_id,))
            # A stream that hangs anyway fails the test below and ends with the stack.
            pool.shutdown(wait=False)
        results = [stream.result(timeout=15) for stream in streams]

    assert [status for status, _ in results] == [200] * STREAMS
    seen = [[event["status"] for event in events] for _, events in results]
    assert seen == [["queued", "completed"]] * STREAMS
    assert [r.status_code for r in health] == [200] * 5
    # 20 streams, polling twice a second, shared at most WEB_WORKERS * POOL_MAX connections.
    census.assert_within_the_pools()
