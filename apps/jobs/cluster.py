"""django-q2's worker cluster in three processes instead of six (`manage.py worker`).

django-q2's `qcluster` runs a parent that only waits, a sentinel, a pusher (broker →
task queue), a monitor (results → broker acknowledgements) and the workers, each a
process holding its own copy of Django: about 150 MiB PSS with two idle workers. Here
the sentinel runs in the command's own process and the pusher and monitor are threads of
it; the workers are django-q2's own, forked as before, so timeouts, recycling, schedules,
the cluster status and post_spawn work unchanged. Measured by bench/http_compare.py
(issue 14).
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from typing import Any

from django_q.cluster import Sentinel
from django_q.monitor import monitor
from django_q.pusher import pusher


class StopFlag:
    """The sentinel's stop event, set from a signal handler. A threading or
    multiprocessing Event could deadlock there: the handler runs on the main thread,
    which may be inside the same event's wait() holding its lock."""

    def __init__(self) -> None:
        self.stopping = False

    def set(self) -> None:
        self.stopping = True

    def is_set(self) -> bool:
        return self.stopping

    def wait(self, timeout: float) -> bool:
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
    sentinel = LeanSentinel(stop, threading.Event(), uuid.uuid4(), start=False)
    sentinel.parent_pid = None  # the cluster's pid is this process's, not the shell's
    os.register_at_fork(after_in_child=_as_django_q_children)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    sentinel.start()
