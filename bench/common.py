"""What the benchmarks share: a private DATA_DIR (SQLite) prepared like `make run` does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def prepared_env(data_dir: Path, **overrides: str) -> dict[str, str]:
    """The environment of a fresh embedded install in `data_dir`, migrated, with admin/admin."""
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(DATA_DIR=str(data_dir), RATE_LIMIT_PER_MIN="0", **overrides)
    for command in (["migrate", "--noinput"], ["ensure_admin"]):
        subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        )
    return env
