"""Django's ASGI handler, with each request's sync code on a reused thread.

Django runs a request's sync middleware and view on a thread of the request's own: it
starts a thread for every request and ends it after. Here a request borrows an idle
thread from a pool and gives it back, so the thread (and the SQLite connection it holds,
CONN_MAX_AGE) serves request after request. Measured by bench/http_compare.py (issue 14).

Django's handler also hops to the thread to send request_started and, after the answer,
to close the response (request_finished): three hops, each a wake-up of two threads and
a hand-over of the GIL. Here one hop sends the signal, runs the view and, when the answer
is already in memory, closes it; only a response still reading its file closes after
being sent, as in Django (issue 14: fewer thread wake-ups; one A/B run of
bench/http_compare.py gave +8 % requests/s at 1 MP, where runs vary by about 5 %).

A borrowed thread runs one request at a time, as Django's own per-request thread does,
so thread-local state (database connections) is never shared between two requests at
once. At most IDLE_THREADS idle threads are kept; a burst beyond that starts threads
that end after their request, closing their database connections first.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers import base
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.db import connections
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix

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

    async def handle(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """Django's ASGIHandler.handle (5.2) with one hop to the request's thread."""
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        if request is None:
            assert error_response is not None  # Django gives one or the other
            body_file.close()
            await self.send_response(error_response, send)
            await sync_to_async(error_response.close, thread_sensitive=True)()
            return

        async def process_request() -> HttpResponseBase:
            response = await self.run_get_response(request)
            with contextlib.suppress(asyncio.CancelledError):  # the client went away
                await self.send_response(response, send)
            return response

        # As Django: a disconnect while the view runs or the answer streams ends the
        # request (an SSE stream stops); the view's thread runs on to its end.
        tasks = [
            asyncio.create_task(self.listen_for_disconnect(receive)),
            asyncio.create_task(process_request()),
        ]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in tasks:
            if task.done():
                try:
                    task.result()
                except RequestAborted:
                    pass
                except AssertionError:
                    body_file.close()
                    raise
            else:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        response = None if tasks[1].cancelled() else tasks[1].result()
        if response is None or not response.closed:
            # On the request's thread: after the view, even when the client left first.
            await sync_to_async(self._finish, thread_sensitive=True)(request)
        body_file.close()

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        return await sync_to_async(self._respond, thread_sensitive=True)(request)

    def _respond(self, request: HttpRequest) -> HttpResponseBase:
        """On the request's thread: request_started, the view, and close() (request_finished)
        at once when the answer is already in memory."""
        scope = getattr(request, "scope", None)
        signals.request_started.send(sender=self.__class__, scope=scope)
        response = self.get_response(request)
        request.pooled_response = response  # type: ignore[attr-defined]  # for _finish
        if not response.streaming or getattr(response, "in_memory", False):
            response.close()
        return response

    def _finish(self, request: HttpRequest) -> None:
        """close() (request_finished) unless `_respond` did; if the client went away before
        there was a response, request_finished alone, as Django does."""
        response = getattr(request, "pooled_response", None)
        if response is None:
            signals.request_finished.send(sender=self.__class__)
        elif not response.closed:
            response.close()

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
