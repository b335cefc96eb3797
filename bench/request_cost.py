"""What one POST /api/v1/tools/resize costs inside the web process, layer by layer.

bench/http_compare.py measures the whole server under load, where runs of the same code
differ by several percent. This drives the ASGI application `make run` serves
(config.asgi) in process, without sockets or a load generator, one request at a time on
a fresh install (SQLite), and times each layer the request passes through (inclusive:
a layer's time holds the layers inside it). The floor (bench/floor_app.py: our resize
tool behind a bare ASGI app) runs the same way, so ours - floor is what the platform
adds to a request. Each app runs in a process of its own, alternately, for --rounds
rounds; it prints CPU ms per request of each (all threads; `time.process_time`), their
ratio per round and median, and ours' layers (median over the rounds).
Usage:
  .venv/bin/python bench/request_cost.py [--rounds 5] [--requests 300] [--size 1mp|12mp]
      [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, parse_args, prepared_env
from bench.http_compare import SIZES, make_photo, multipart

# (module, attribute path, what it is): timed inclusively, in the order printed.
LAYERS = [
    ("apps.core.asgi", "PooledThreadsASGIHandler.handle", "Django's handler (event loop + thread)"),
    ("apps.core.asgi", "PooledThreadsASGIHandler._respond", "  on the request's thread"),
    ("rest_framework.views", "APIView.dispatch", "    DRF (after middleware, URL routing)"),
    ("rest_framework.views", "APIView.initial", "      authentication, permission, throttle"),
    ("apps.toolsapi.views", "ToolView.post", "      the view"),
    ("apps.jobs.intake", "settings_field", "        multipart parse, settings"),
    ("apps.jobs.services", "_create", "        job: inputs stored and sniffed"),
    ("apps.jobs.execute", "perform", "        job: its steps"),
    ("tools.runner", "execute", "          the engine (resize)"),
    ("apps.jobs.execute", "complete", "        job: result kept, row written"),
    ("django.db.models.base", "Model.save", "          the row's INSERT (ORM)"),
    ("apps.jobs.responses", "answer", "        the answer"),
]


def timed(spent: dict[str, float], key: str, function: Any) -> Any:
    if asyncio.iscoroutinefunction(function):

        async def timed_async(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                spent[key] += time.perf_counter() - start

        return timed_async

    def timed_sync(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[key] += time.perf_counter() - start

    return timed_sync


def time_layers(spent: dict[str, float]) -> None:
    for module, path, _ in LAYERS:
        owner: Any = importlib.import_module(module)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        setattr(owner, name, timed(spent, path, getattr(owner, name)))


async def call(app: Any, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app; (status, body)."""
    headers = {**headers, "content-length": str(len(body)), "host": "127.0.0.1"}
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 1349),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    answer: dict[str, Any] = {"status": 0, "body": b""}

    async def receive() -> dict[str, Any]:
        if messages:
            return messages.pop()
        await asyncio.Event().wait()  # the client stays connected
        raise AssertionError

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        else:
            answer["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return answer["status"], answer["body"]


async def child(app_name: str, photo: Path, width: int, requests: int) -> dict[str, Any]:
    """In the child process: warm up, then `requests` requests; the figures as a dict."""
    spent: dict[str, float] = defaultdict(float)
    if app_name == "floor":
        from bench.floor_app import app

        path, auth = "/resize", {}
    else:
        from config.asgi import application as app

        login = json.dumps({"username": "admin", "password": "admin"}).encode()
        json_type = {"content-type": "application/json"}
        token = json.loads((await call(app, "/api/auth/login", json_type, login))[1])["token"]
        path, auth = "/api/v1/tools/resize", {"authorization": f"Bearer {token}"}
    body, headers = multipart(f"http://127.0.0.1{path}", photo.read_bytes(), width)
    headers = {**auth, "content-type": headers["Content-Type"]}
    for _ in range(20):
        status, answer = await call(app, path, headers, body)
        if status != 200 or answer[:2] != b"\xff\xd8":
            raise SystemExit(f"{app_name}: {status} {answer[:300]!r}")
    if app_name != "floor":
        time_layers(spent)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(requests):
        await call(app, path, headers, body)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    layers = {key: 1000 * seconds / requests for key, seconds in spent.items()}
    return {"cpu_ms": 1000 * cpu / requests, "wall_ms": 1000 * wall / requests, "layers": layers}


def run_child(app_name: str, env: dict[str, str], photo: Path, width: int, n: int) -> Any:
    command = [sys.executable, __file__, "--child", app_name, "--photo", str(photo)]
    command += ["--width", str(width), "--requests", str(n)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{app_name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--size", choices=sorted(SIZES), default="1mp")
    parser.add_argument("--child", choices=["ours", "floor"], help=argparse.SUPPRESS)
    parser.add_argument("--photo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--width", type=int, help=argparse.SUPPRESS)
    args = parse_args(parser, rounds=2, requests=100)
    if args.child:
        import uvloop  # as uvicorn runs the app

        print(json.dumps(uvloop.run(child(args.child, args.photo, args.width, args.requests))))
        return
    src_w, src_h, width = SIZES[args.size]
    with tempfile.TemporaryDirectory(prefix="request-cost-") as work:
        photo = Path(work) / "photo.jpg"
        make_photo(photo, src_w, src_h)
        env = prepared_env(Path(work) / "data", MALLOC_ARENA_MAX="2")  # as scripts/serve.sh
        print(f"{args.size} -> {width} px, {args.requests} requests one at a time, in process")
        results: dict[str, list[Any]] = {"ours": [], "floor": []}
        for round_ in range(args.rounds):
            order = ["ours", "floor"] if round_ % 2 == 0 else ["floor", "ours"]
            for name in order:
                results[name].append(run_child(name, env, photo, width, args.requests))
            ours, floor = results["ours"][-1]["cpu_ms"], results["floor"][-1]["cpu_ms"]
            print(
                f"round {round_ + 1}: ours {ours:.2f} ms, floor {floor:.2f} ms, {ours / floor:.2f}x"
            )
    show(results)


def show(results: dict[str, list[Any]]) -> None:
    ours = [r["cpu_ms"] for r in results["ours"]]
    floor = [r["cpu_ms"] for r in results["floor"]]
    ratios = [o / f for o, f in zip(ours, floor, strict=True)]

    def spread(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} ({min(values):.2f}..{max(values):.2f})"

    print(f"\nCPU ms a request, median (min..max): ours {spread(ours)}, floor {spread(floor)}")
    print(f"ours / floor: {spread(ratios)}")
    print("\nours, wall ms a request in each layer (inclusive), median over the rounds:")
    for _, path, label in LAYERS:
        values = [r["layers"].get(path, 0.0) for r in results["ours"]]
        print(f"  {statistics.median(values):7.2f}  {label}")


if __name__ == "__main__":
    main()
