"""apps.core.asgi: each request's sync code on a reused thread (and, under SQLite, that
thread's reused connection), and a middleware chain that is sync only."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from asgiref.sync import iscoroutinefunction, sync_to_async
from django.conf import settings as django_settings
from django.core.signals import request_finished, request_started
from django.db import connection, connections
from django.utils.module_loading import import_string

from apps.core.asgi import PooledThreadsASGIHandler, ThreadPool
from apps.core.streaming import CHUNK
from config.asgi import django_app
from tests.aio import run_async
from tests.api.jobs_support import PHOTO, make_job, with_result

BASE = "http://pixelsmith.test"


def thread_of(executor: ThreadPoolExecutor) -> threading.Thread:
    return executor.submit(threading.current_thread).result(timeout=5)


def ran_queued_work(executor: ThreadPoolExecutor) -> None:
    """Returns once everything queued on the executor before now (and the callbacks of
    those futures, which run on its thread as each ends) has run."""
    executor.submit(lambda: None).result(timeout=5)


@pytest.fixture
def pool() -> Iterator[ThreadPool]:
    threads = ThreadPool(keep=1)
    yield threads
    for executor in threads.idle:
        executor.shutdown(wait=True)


# --- ThreadPool ---------------------------------------------------------------------------


def test_a_thread_given_back_serves_the_next_request(pool: ThreadPool) -> None:
    first = pool.borrow()
    assert pool.lent == 1
    ident = first.submit(threading.get_ident).result(timeout=5)
    pool.idle_again(first)
    assert (pool.lent, pool.idle) == (0, [first])

    second = pool.borrow()

    assert second is first and pool.idle == []
    assert second.submit(threading.get_ident).result(timeout=5) == ident
    pool.idle_again(second)


def test_two_requests_at_once_get_two_threads(pool: ThreadPool) -> None:
    one, two = pool.borrow(), pool.borrow()
    assert pool.lent == 2
    assert thread_of(one) is not thread_of(two)
    pool.idle_again(one)
    pool.idle_again(two)


def test_at_most_keep_idle_threads_are_kept_and_an_extra_one_ends(pool: ThreadPool) -> None:
    kept, extra = pool.borrow(), pool.borrow()
    extra_thread = thread_of(extra)
    pool.idle_again(kept)

    pool.idle_again(extra)  # keep=1: one too many

    assert pool.idle == [kept] and pool.lent == 0
    extra_thread.join(timeout=5)
    assert not extra_thread.is_alive()
    with pytest.raises(RuntimeError):
        extra.submit(lambda: None)  # shut down
    assert thread_of(kept).is_alive()


def test_give_back_when_done_waits_for_work_still_queued(pool: ThreadPool) -> None:
    executor = pool.borrow()
    release = threading.Event()
    blocked = executor.submit(release.wait, 5)

    pool.give_back_when_done(executor)  # as when a request failed with its view still running

    time.sleep(0.05)
    assert executor not in pool.idle and pool.lent == 1
    release.set()
    assert blocked.result(timeout=5) is True
    ran_queued_work(executor)
    assert pool.idle == [executor] and pool.lent == 0


# --- the handler, through ASGI --------------------------------------------------------------


@pytest.fixture
def handler() -> Iterator[PooledThreadsASGIHandler]:
    """A handler of its own; its idle threads close their connections and end after."""
    app = PooledThreadsASGIHandler()
    yield app
    for executor in app.threads.idle:
        executor.submit(connections.close_all).result(timeout=5)
        executor.shutdown(wait=True)


@pytest.fixture
def finished_requests() -> Iterator[list[dict[str, Any]]]:
    """What each request's thread looked like when Django finished the request."""
    seen: list[dict[str, Any]] = []

    def record(**_: Any) -> None:
        db = connections["default"]
        seen.append(
            {
                "thread": threading.get_ident(),
                "raw": db.connection,
                "closes_in_s": None if db.close_at is None else db.close_at - time.monotonic(),
            }
        )

    request_finished.connect(record, dispatch_uid="test_request_threads")
    yield seen
    request_finished.disconnect(dispatch_uid="test_request_threads")


def get(app: Any, *paths: str, headers: dict[str, str] | None = None) -> list[httpx.Response]:
    """GET each path in turn, one after the other, on one event loop."""

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as client:
            return [await client.get(path, headers=headers) for path in paths]

    return run_async(go())


def get_as(app: Any, token: str, path: str) -> httpx.Response:
    """GET `path` signed in with a session token."""
    (response,) = get(app, path, headers={"authorization": f"Bearer {token}"})
    return response


@pytest.mark.django_db(transaction=True)  # the handler reads the DB from its own threads
def test_sequential_requests_run_on_the_same_thread(handler, finished_requests) -> None:
    responses = get(handler, "/api/v1/health", "/api/v1/health")

    assert [r.status_code for r in responses] == [200, 200]
    assert len(finished_requests) == 2
    first, second = finished_requests
    assert first["thread"] == second["thread"] != threading.get_ident()
    assert handler.threads.lent == 0 and len(handler.threads.idle) == 1


@pytest.mark.django_db(transaction=True)
def test_the_threads_database_connection_is_reused(handler, finished_requests) -> None:
    get(handler, "/api/v1/health", "/api/v1/health")

    first, second = finished_requests
    if connection.vendor == "sqlite":
        assert django_settings.DATABASES["default"]["CONN_MAX_AGE"] == 600
        # Still open once the request finished, kept for minutes, and the next request's.
        assert first["raw"] is not None and first["closes_in_s"] > 60
        assert second["raw"] is first["raw"]
    else:  # PostgreSQL's pool takes each request's connection back instead
        assert django_settings.DATABASES["default"]["CONN_MAX_AGE"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_finished_jobs_progress_stream_ends_with_its_final_event(
    handler, user, session_token
) -> None:
    job = with_result(make_job(user, tool_id="resize"))

    response = get_as(handler, session_token(user), f"/api/v1/jobs/{job.pk}/progress")

    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "text/event-stream"
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: ")
    ]
    assert len(events) == 1
    assert (events[0]["jobId"], events[0]["status"], events[0]["progress"]) == (
        str(job.pk),
        "completed",
        100,
    )
    assert handler.threads.lent == 0


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of each function the handler sends to a request's thread."""
    from apps.core import asgi

    sent: list[str] = []

    def counted(func: Callable[..., Any], **kwargs: Any) -> Any:
        sent.append(getattr(func, "__name__", repr(func)))
        return sync_to_async(func, **kwargs)

    monkeypatch.setattr(asgi, "sync_to_async", counted)
    return sent


@pytest.fixture
def started_requests() -> Iterator[list[int]]:
    seen: list[int] = []
    request_started.connect(lambda **_: seen.append(threading.get_ident()), weak=False,
                            dispatch_uid="test_request_threads_started")  # fmt: skip
    yield seen
    request_started.disconnect(dispatch_uid="test_request_threads_started")


@pytest.mark.django_db(transaction=True)
def test_a_request_goes_to_its_thread_once(
    handler, hops, started_requests, finished_requests
) -> None:
    """Django's handler goes there three times (request_started, the view, close())."""
    (response,) = get(handler, "/api/v1/health")

    assert response.status_code == 200
    assert hops == ["_respond"]
    assert len(started_requests) == len(finished_requests) == 1
    assert started_requests[0] == finished_requests[0]["thread"] != threading.get_ident()


@pytest.mark.django_db(transaction=True)
def test_a_file_bigger_than_a_chunk_is_closed_after_it_was_sent(
    handler, hops, user, session_token, finished_requests
) -> None:
    """Its file is read while the answer goes out: request_finished (close()) comes after."""
    big = bytes(range(256)) * (CHUNK // 256 * 3 + 7)
    job = with_result(make_job(user, tool_id="resize"), data=big)

    response = get_as(handler, session_token(user), f"/api/v1/jobs/{job.pk}/download")

    assert response.status_code == 200, response.text[:300]
    assert response.content == big
    assert hops == ["_respond", "_finish"]
    assert len(finished_requests) == 1
    assert handler.threads.lent == 0


@pytest.mark.django_db(transaction=True)
def test_a_small_file_is_closed_on_the_views_thread_before_it_is_sent(
    handler, hops, user, session_token, finished_requests
) -> None:
    job = with_result(make_job(user, tool_id="resize"))

    response = get_as(handler, session_token(user), f"/api/v1/jobs/{job.pk}/download")

    assert response.status_code == 200 and response.content == PHOTO
    assert hops == ["_respond"]
    assert len(finished_requests) == 1


@pytest.mark.django_db(transaction=True)
def test_a_client_that_leaves_during_the_view_still_gets_it_finished_once(
    handler, finished_requests
) -> None:
    """As Django: the answer is not sent, request_finished is, after the view, on its thread."""
    messages = iter([{"type": "http.request", "body": b""}, {"type": "http.disconnect"}])
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return next(messages)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "GET",
        "path": "/api/v1/health",
        "query_string": b"",
        "headers": [(b"host", b"pixelsmith.test")],
        "server": ("pixelsmith.test", 80),
    }
    run_async(handler(scope, receive, send))

    assert sent == []  # it left before the view had answered
    assert len(finished_requests) == 1
    assert finished_requests[0]["thread"] != threading.get_ident()
    assert handler.threads.lent == 0


# --- sync only --------------------------------------------------------------------------------


def test_the_served_app_is_the_pooled_handler() -> None:
    assert isinstance(django_app, PooledThreadsASGIHandler)


def test_the_middleware_chain_is_built_sync(handler) -> None:
    assert not iscoroutinefunction(handler._middleware_chain)


@pytest.mark.parametrize("path", django_settings.MIDDLEWARE)
def test_every_middleware_is_sync_only(path: str) -> None:
    middleware: Callable[..., Any] = import_string(path)
    # Django's default for a middleware that does not say: sync capable, not async capable.
    assert getattr(middleware, "async_capable", False) is False
    assert getattr(middleware, "sync_capable", True) is True
