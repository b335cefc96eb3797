"""Finding a dead worker's jobs within seconds, not minutes.

The scheduled upkeep (`maintenance.recover_lost_jobs`) runs once a minute, the finest
django-q2's schedules go; a job whose worker died then showed "processing" for up to
JOB_STALE_S plus a minute. Each worker process also runs that check every `watch_s()`
seconds on a thread of its own, so a lost job is requeued (or failed) about JOB_STALE_S
after its last heartbeat. The check is a few indexed queries, and every write in it is
conditional on the row's state, so several processes running it at once is harmless.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.db import connection

log = logging.getLogger(__name__)

_started = False


def watch_s() -> float:
    """How often to look: twice a heartbeat, at least every 5 s, at most every 15 s."""
    return float(min(15, max(5, 2 * settings.JOB_HEARTBEAT_S)))


def watch_forever() -> None:
    from apps.jobs import maintenance  # imported here: it imports the job machinery

    while True:
        time.sleep(watch_s())
        try:
            maintenance.recover_lost_jobs()
        except Exception:  # a busy database: the next round will do
            log.debug("lost-job check failed", exc_info=True)
        finally:
            connection.close()  # this thread's own connection


def worker_started(proc_name: str = "", **_: Any) -> None:
    """django-q2's post_spawn: start the watch in a worker process (once per process).
    Sync mode runs tasks in the calling process ("MainProcess"): that is no worker."""
    global _started
    if proc_name == "MainProcess" or _started:
        return
    _started = True
    threading.Thread(target=watch_forever, name="lost-job-watch", daemon=True).start()
