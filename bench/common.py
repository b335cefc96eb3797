"""What the benchmarks share: a private DATA_DIR (SQLite) prepared like `make run` does."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def prepared_env(data_dir: Path, root: Path = ROOT, /, **overrides: str) -> dict[str, str]:
    """The environment of a fresh embedded install in `data_dir`, migrated, with admin/admin
    (by the checkout at `root`: another one, e.g. a git worktree of an older commit, too)."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATA_DIR=str(data_dir), RATE_LIMIT_PER_MIN="0", **overrides)
    # A private benchmark install: the first admin keeps admin/admin (a real one must
    # choose a password before anything else).
    keep = "from apps.accounts.models import User; User.objects.update(must_change_password=False)"
    for command in (["migrate", "--noinput"], ["ensure_admin"], ["shell", "-c", keep]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=root,
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


def children_of() -> dict[int, list[int]]:
    """Every process's children, from /proc/<pid>/stat (the field after the command)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended while we looked
        children.setdefault(ppid, []).append(int(stat.parent.name))
    return children


def tree_pids(root: int) -> list[int]:
    """`root` and all its descendants, as they are now."""
    children, pids, todo = children_of(), [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(children.get(pid, []))
    return pids


def parse_args(parser: argparse.ArgumentParser, **quick: object) -> argparse.Namespace:
    """The parser's arguments plus --quick: a short run (for `make bench QUICK=1`) that
    sets `quick`'s values on the options left at their defaults."""
    shown = ", ".join(f"--{name.replace('_', '-')} {value}" for name, value in quick.items())
    parser.add_argument("--quick", action="store_true", help=f"a short run: {shown}")
    args = parser.parse_args()
    if args.quick:
        for name, value in quick.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    return args
