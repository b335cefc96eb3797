"""`make run`'s process (scripts/serve.sh): the web server and the job worker, forked from
one process that loaded Django, the views and the engine first.

Run separately, the web process and the worker each hold their own copy of what they
import (about 60 MiB each). Forked from one parent after those imports, they share it:
bench/http_compare.py measured -42 MiB PSS idle (issue 14). gc.freeze() keeps it shared:
the collector no longer walks (and so writes to) the objects loaded before the fork.

The worker (apps.jobs.cluster) runs in a session of its own at WORKER_NICE. Either one
ending ends the other: TERM or Ctrl-C stops the web server gracefully, then the worker
(TERM, which lets running jobs end; KILL after STOP_WAIT_S).

Environment (read here, not by Django): HOST, PORT, WEB_WORKERS, TRUSTED_PROXIES,
WORKER_NICE, ACCESS_LOG.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from config.env import env_bool, env_int, env_str

STOP_WAIT_S = 30


def preload() -> None:
    """What both processes use, imported before the fork. Nothing here may start a thread
    or open a connection: a fork copies neither."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup(set_prefix=False)
    from django.db import connections
    from django.urls import get_resolver

    import tools.registry

    get_resolver().url_patterns  # noqa: B018  (imports every view and what it uses)
    tools.registry.all_tools()
    connections.close_all()


def start_worker(nice: int) -> int:
    pid = os.fork()
    if pid:
        return pid
    try:  # the child: never returns
        os.setsid()
        os.nice(nice)
        from apps.jobs import cluster

        cluster.run()
        code = 0
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def watch(worker: int, stop_web: Callable[[], None], ended: dict[str, int]) -> None:
    """Wait for the worker to end, then end what is left of its session and stop the web
    server (if it is not stopping already)."""
    _, status = os.waitpid(worker, 0)
    ended["status"] = os.waitstatus_to_exitcode(status)
    with contextlib.suppress(ProcessLookupError):  # a sentinel killed outright leaves
        os.killpg(worker, signal.SIGKILL)  # its workers running: end them too
    stop_web()


def stop_worker(worker: int, watcher: threading.Thread) -> None:
    if watcher.is_alive():
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker, signal.SIGTERM)
        watcher.join(STOP_WAIT_S)
    if watcher.is_alive():  # stuck: end its whole session (the worker and its children)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(worker, signal.SIGKILL)
        watcher.join()


def web_options() -> dict[str, Any]:
    """uvicorn's options from the environment (a malformed value stops start-up, naming it)."""
    return {
        "host": env_str("HOST", "0.0.0.0"),  # noqa: S104  (make run serves the LAN)
        "port": env_int("PORT", 1349, minimum=1),
        "workers": env_int("WEB_WORKERS", 1, minimum=1),
        "proxy_headers": True,
        "forwarded_allow_ips": env_str("TRUSTED_PROXIES", "127.0.0.1"),
        "timeout_graceful_shutdown": 10,
        # One line per request cost the event loop ~6 % of its time under load (issue 14);
        # a reverse proxy keeps its own access log.
        "access_log": env_bool("ACCESS_LOG", False),
    }


def main() -> int:
    options, nice = web_options(), env_int("WORKER_NICE", 10, minimum=0)
    preload()
    gc.collect()
    gc.freeze()
    worker = start_worker(nice)
    print(f"web pid {os.getpid()}, worker pid {worker}", flush=True)

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("config.asgi:application", **options)
    # uvicorn raises the TERM or INT that stopped it again once it is done, to end the
    # process the signal's default way; a handler of ours lets the worker be stopped first.
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: None)
    server = uvicorn.Server(config)
    web: uvicorn.Server | Multiprocess = server
    stop_web: Callable[[], None] = lambda: setattr(server, "should_exit", True)  # noqa: E731
    if config.workers > 1:  # uvicorn's supervisor starts them (fresh processes)
        web = Multiprocess(config, sockets=[config.bind_socket()])
        stop_web = web.should_exit.set
    ended: dict[str, int] = {}
    watcher = threading.Thread(target=watch, args=(worker, stop_web, ended), daemon=True)
    watcher.start()
    try:
        web.run()
    finally:  # also when the server could not start (a port in use exits from run())
        stop_worker(worker, watcher)
    if "status" in ended and ended["status"] not in (0, -signal.SIGTERM):
        return 1  # the worker failed (its output says why)
    return 0


if __name__ == "__main__":
    sys.exit(main())
