"""What the benchmarks share: a private DATA_DIR (SQLite) prepared like `make run` does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def prepared_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh embedded install in `data_dir`, migrated, with admin/admin."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATA_DIR=str(data_dir), RATE_LIMIT_PER_MIN="0", **overrides)
    # A private benchmark install: the first admin keeps admin/admin (a real one must
    # choose a password before anything else).
    keep = "from apps.accounts.models import User; User.objects.update(must_change_password=False)"
    for command in (["migrate", "--noinput"], ["ensure_admin"], ["shell", "-c", keep]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def start_server(data_dir: Path, port: int, **overrides: str) -> subprocess.Popen:
    """uvicorn (one process, libvips on one thread) on a fresh install; returns once healthy."""
    env = prepared_env(data_dir, VIPS_CONCURRENCY="1", **overrides)
    command = ["-m", "uvicorn", "config.asgi:application", "--port", str(port)]
    quiet = ["--no-access-log", "--log-level", "warning"]
    server = subprocess.Popen([sys.executable, *command, *quiet], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1)
            return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("server did not start")
