"""Django's ASGI handler, with each request's sync code on a reused thread.

Django runs a request's sync middleware and view on a thread of the request's own: it
starts a thread for every request and ends it after. Here a request borrows an idle
thread from a pool and gives it back, so the thread (and the SQLite connection it holds,
CONN_MAX_AGE) serves request after request. Measured by bench/http_compare.py (issue 14).

A borrowed thread runs one request at a time, as Django's own per-request thread does,
so thread-local state (database connections) is never shared between two requests at
once. At most IDLE_THREADS idle threads are kept; a burst beyond that starts threads
that end after their request, closing their database connections first.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler
from django.db import connections
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from apps.core import memory

IDLE_THREADS = 16


class ThreadPool:
    """Single-thread executors lent to one request at a time."""

    def __init__(self, keep: int = IDLE_THREADS) -> None:
        self.keep = keep
        self.idle: list[ThreadPoolExecutor] = []
        self.lent = 0  # requests running
        self.lock = threading.Lock()

    def borrow(self) -> ThreadPoolExecutor:
        with self.lock:
            self.lent += 1
            if self.idle:
                return self.idle.pop()
        return ThreadPoolExecutor(max_workers=1, thread_name_prefix="request")

    def give_back_when_done(self, executor: ThreadPoolExecutor) -> None:
        """Idle again once the work queued on it is done: a view whose request failed may
        still run (a thread cannot be cancelled), and the next request must not queue
        behind it."""
        executor.submit(_nothing).add_done_callback(lambda _: self.idle_again(executor))

    def idle_again(self, executor: ThreadPoolExecutor) -> None:
        with self.lock:
            self.lent -= 1
            if not self.lent:  # the last request ended: give its memory back, on this thread
                executor.submit(memory.trim)
            if len(self.idle) < self.keep:
                self.idle.append(executor)
                return
        # One too many: its connections are closed on its own thread (they are
        # thread-bound), then the thread ends; nothing here waits for that.
        executor.submit(connections.close_all)
        executor.shutdown(wait=False)


def _nothing() -> None:
    return None


class PooledThreadsASGIHandler(ASGIHandler):
    """Also: the middleware chain is built sync (every middleware is sync only, see
    apps.core.middleware), so a request hops to its thread once, and the chain and the
    view run there. Async views (the SSE streams) still work: Django runs them on the
    event loop from that thread."""

    def __init__(self) -> None:
        base.BaseHandler.__init__(self)
        self.load_middleware(is_async=False)
        self.threads = ThreadPool()

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = self.threads.borrow()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        except BaseException:
            self.threads.give_back_when_done(executor)
            raise
        # Django's last call of a request (response.close(), or the request_finished signal
        # when the client went away) ran on this thread after all else: it is idle now.
        self.threads.idle_again(executor)
