"""django-q2's worker cluster in fewer processes (`manage.py worker`).

django-q2's `qcluster` runs a parent that only waits, a sentinel, a pusher (broker →
task queue), a monitor (results → broker acknowledgements) and the workers, each a
process holding its own copy of Django: about 150 MiB PSS with two idle workers. Here
the sentinel runs in the command's own process and the pusher and monitor are threads of
it; the workers are django-q2's own, forked as before, so timeouts, recycling, schedules,
the cluster status and post_spawn work unchanged.

The pool follows the work (`LeanSentinel.resize_pool`): one worker at rest, another as
soon as a task waits while every worker is busy (up to WORKER_CONCURRENCY), and a worker
beyond the first goes once all have been idle for MODEL_IDLE_UNLOAD_S (by then its
models would have been unloaded anyway). At rest: two processes, about 80 MiB PSS
(bench/http_compare.py, issue 14).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django_q.cluster import Sentinel
from django_q.conf import Conf
from django_q.monitor import monitor
from django_q.pusher import pusher


class StopFlag:
    """The sentinel's stop event, set from a signal handler. A threading or
    multiprocessing Event could deadlock there: the handler runs on the main thread,
    which may be inside the same event's wait() holding its lock.

    The sentinel's guard waits on it between its rounds (GUARD_CYCLE): `between_rounds`
    runs there, on the guard's thread, where the worker pool may change."""

    def __init__(self) -> None:
        self.stopping = False
        self.between_rounds: Callable[[], None] | None = None

    def set(self) -> None:
        self.stopping = True

    def is_set(self) -> bool:
        return self.stopping

    def wait(self, timeout: float) -> bool:
        if self.between_rounds is not None and not self.stopping:
            self.between_rounds()
        deadline = time.monotonic() + timeout
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.stopping


class Helper(threading.Thread):
    """The pusher or the monitor on a thread; django-q2's status reads its `pid`."""

    def __init__(self, target: Any, *args: Any) -> None:
        super().__init__(target=target, args=args, name=target.__name__, daemon=True)
        self.pid = os.getpid()


class LeanSentinel(Sentinel):
    def __init__(self, stop: StopFlag, *args: Any, idle_s: float, **kwargs: Any) -> None:
        super().__init__(stop, *args, start=False, **kwargs)
        self.most: int = Conf.WORKERS  # this queue's workers at most (WORKER_CONCURRENCY)
        self.pool_size = 1  # what spawn_cluster starts
        self.idle_s = idle_s
        self.idle_since = time.monotonic()  # when every worker was last seen idle
        self.retiring = 0  # STOPs put in the task queue for idle workers, not yet taken
        stop.between_rounds = self.resize_pool

    def resize_pool(self) -> None:
        """One more worker when a task waits and every worker is busy (a busy worker's
        timer counts down its task's timeout; an idle one's is -1); one fewer when all
        have been idle for `idle_s`."""
        busy = sum(1 for p in self.pool if p.timer.value > 0)
        waiting = self.task_queue.qsize() - self.retiring
        if busy == len(self.pool) and waiting > 0 and len(self.pool) < self.most:
            self.spawn_worker()
        now = time.monotonic()
        if busy or waiting > 0:
            self.idle_since = now
        elif len(self.pool) - self.retiring > 1 and now - self.idle_since >= self.idle_s:
            self.task_queue.put("STOP")  # whichever idle worker takes it ends
            self.retiring += 1
            self.idle_since = now

    def reincarnate(self, process: Any) -> None:
        """A worker that ended because it took a retiring STOP is not replaced."""
        if self.retiring and process.exitcode == 0 and process.timer.value == -1:
            self.pool.remove(process)
            self.retiring -= 1
            return
        super().reincarnate(process)

    def spawn_pusher(self) -> Helper:
        return self._start(Helper(pusher, self.task_queue, self.event_out, self.broker))

    def spawn_monitor(self) -> Helper:
        return self._start(Helper(monitor, self.result_queue, self.broker))

    @staticmethod
    def _start(helper: Helper) -> Helper:
        helper.start()
        return helper


def _as_django_q_children() -> None:
    """A forked worker gets the signal handling django-q2's sentinel gives its children:
    TERM ends it (the sentinel's way to end a worker past its timeout), INT is ignored
    (a Ctrl-C reaches the sentinel, which stops the workers in order)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def run() -> None:
    """Run the cluster of Q_CLUSTER_NAME's queue until TERM or INT, then stop it in
    order (the pusher, the workers once their task is done, the monitor)."""
    stop = StopFlag()
    idle_s = settings.MODEL_IDLE_UNLOAD_S
    sentinel = LeanSentinel(stop, threading.Event(), uuid.uuid4(), idle_s=idle_s)
    sentinel.parent_pid = None  # the cluster's pid is this process's, not the shell's
    os.register_at_fork(after_in_child=_as_django_q_children)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sentinel.start()
