"""SVG through librsvg with a hard bound: every header read and render runs in a child.

Why a child process: librsvg draws in native code inside libvips, and nothing in Python
can interrupt it. `svg_sanitise` refuses the known amplifiers before librsvg sees a byte
(entities, `<use>` bombs, absurd filters), but an innocent-looking drawing can still be
slow: its cost is area x work per pixel, libvips renders in strips and librsvg re-runs a
filter for every strip (a 3000 px square blurred: 6 s, 6000 px: 57 s), and sizing an
SVG with no width, height or viewBox lays out all of its text. So librsvg never runs in
the caller's process:

- `svg_child.py` runs as `python -P -S svg_child.py JOB`: the standard library and pyvips,
  never Django (about 0.1 s to start). Before importing pyvips it sets RLIMIT_CPU (SIGXCPU
  at the limit, SIGKILL a second later) and RLIMIT_AS, and asks Linux to kill it if its
  parent dies.
- The parent waits with a wall-clock deadline, polling the job's `is_cancelled` every
  50 ms; the deadline or a cancel kills the child (SIGKILL) at once.
- Pixels come back as a VIPS native `.v` file, which pyvips maps lazily: for a 4000x3000
  drawing, writing .v took 157 ms and reading it 44 ms, against 230 and 135 ms for an
  uncompressed PNG. The file is unlinked as soon as it is open.

Limits come from `configure` (the apps pass their settings at start-up) or a `limits`
argument. Tools that decode through `imaging.load` have no `Context`: while a tool runs
under `running(ctx)`, renders write into its scratch directory and poll its cancel flag.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyvips

from tools.base import Cancelled, Context, ToolError

logger = logging.getLogger(__name__)

_CHILD = Path(__file__).with_name("svg_child.py")
_POLL_S = 0.05


@dataclass(frozen=True)
class Limits:
    """What one header read or render may use.

    60 s: an SVG a person drew renders in well under a second; the largest drawings with
    filters (a 4000 px square blurred) take 10-20 s. 2 GiB: a plain 100 MP render streams
    in under 256 MiB; a filter holds a few full-size surfaces (a 6000 px square blurred
    peaked at 1.3 GB), and anything bigger would not finish in 60 s anyway.
    """

    timeout_s: float = 60.0
    memory_mb: int = 2048


_limits = Limits()
_running: ContextVar[Context | None] = ContextVar("svg_render_context", default=None)


def configure(limits: Limits) -> None:
    """Set the process-wide limits (the apps call this once at start-up)."""
    global _limits
    _limits = limits


@contextmanager
def running(ctx: Context) -> Iterator[None]:
    """Renders inside this block that are given no context use `ctx`: its scratch
    directory, and its `is_cancelled` polled while the child works."""
    token = _running.set(ctx)
    try:
        yield
    finally:
        _running.reset(token)


class OverPixelLimit(Exception):
    """The drawing is larger than `max_pixels`: nothing was rendered."""

    def __init__(self, width: int, height: int) -> None:
        super().__init__(f"{width}x{height}")
        self.width = width
        self.height = height


def header(
    svg: bytes,
    name: str,
    *,
    dpi: float = 72.0,
    scale: float = 1.0,
    ctx: Context | None = None,
    limits: Limits | None = None,
) -> pyvips.Image:
    """A stand-in with the drawing's header (size at `dpi` x `scale`, 4 bands, sRGB,
    resolution) and no pixels: librsvg sizes the drawing in the child. It is black;
    draw with `render`."""
    ctx, limits = _resolve(ctx, limits)
    with _workspace(ctx) as folder:
        found = _in_child(svg, name, {"dpi": dpi, "scale": scale}, folder, ctx, limits)
    stand_in = pyvips.Image.black(found["width"], found["height"], bands=found["bands"])
    return stand_in.copy(interpretation="srgb", xres=found["xres"], yres=found["yres"])


def render(
    svg: bytes,
    name: str,
    *,
    dpi: float = 72.0,
    scale: float = 1.0,
    max_pixels: int | None = None,
    access: str = "random",
    ctx: Context | None = None,
    limits: Limits | None = None,
) -> pyvips.Image:
    """The drawing rendered at `dpi` x `scale`, as a lazily read image.

    Raises `OverPixelLimit` (before drawing) when it is over `max_pixels`, `Cancelled`,
    and `ToolError`: RENDER_TIMEOUT, SVG_TOO_COMPLEX (out of memory), CORRUPT_IMAGE.
    """
    ctx, limits = _resolve(ctx, limits)
    job = {"dpi": dpi, "scale": scale, "max_pixels": max_pixels}
    with _workspace(ctx) as folder:
        out = folder / "render.v"
        found = _in_child(svg, name, {**job, "out": str(out)}, folder, ctx, limits)
        if found.get("over_limit"):
            raise OverPixelLimit(found["width"], found["height"])
        # Opened before the folder is removed: the open file keeps its pixels readable.
        return pyvips.Image.new_from_file(str(out), access=access)


def _resolve(ctx: Context | None, limits: Limits | None) -> tuple[Context | None, Limits]:
    """The context and limits given, else those of the running tool and the process."""
    return (ctx if ctx is not None else _running.get()), (limits or _limits)


@contextmanager
def _workspace(ctx: Context | None) -> Iterator[Path]:
    """A private folder for the SVG and its pixels (in the job's scratch directory when
    there is a job), removed afterwards."""
    scratch = ctx.scratch_dir if ctx is not None else None
    if scratch is not None:
        scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="svg-", dir=scratch) as folder:
        yield Path(folder)


def _in_child(
    svg: bytes,
    name: str,
    job: dict[str, Any],
    folder: Path,
    ctx: Context | None,
    limits: Limits,
) -> dict[str, Any]:
    """Run svg_child.py on `svg` under the limits: its JSON answer, or the error."""
    drawing = folder / "drawing.svg"
    drawing.write_bytes(svg)
    job = {
        **job,
        "svg": str(drawing),
        "cpu_s": max(1, math.ceil(limits.timeout_s)),
        "memory_bytes": limits.memory_mb * 1024 * 1024,
        "parent": os.getpid(),
        # -S skips site (and its import hooks): the child imports from our sys.path.
        "path": [entry for entry in sys.path if entry and os.path.exists(entry)],
    }
    command = [sys.executable, "-P", "-S", str(_CHILD), json.dumps(job)]
    # Our own interpreter and script with a JSON argument: no shell, nothing from the user.
    with subprocess.Popen(  # noqa: S603
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=_child_env(),
    ) as child:
        try:
            out, err = _wait(child, ctx, limits, name)
        finally:
            if child.poll() is None:  # cancelled, timed out, or interrupted
                child.kill()
    return _answer(child.returncode, out, err, name, limits)


def _child_env() -> dict[str, str]:
    """The parent's environment, with this process's libvips thread count (`configure`
    may have set it), and glibc's per-thread malloc arenas capped: each reserves 64 MiB
    of address space, which RLIMIT_AS would count as if it were used."""
    threads = str(pyvips.concurrency_get())
    return {**os.environ, "VIPS_CONCURRENCY": threads, "MALLOC_ARENA_MAX": "2"}


def _wait(
    child: subprocess.Popen[bytes], ctx: Context | None, limits: Limits, name: str
) -> tuple[bytes, bytes]:
    """The child's stdout and stderr once it exits; cancel or the deadline kill it first."""
    deadline = time.monotonic() + limits.timeout_s
    while True:
        try:
            return child.communicate(timeout=_POLL_S)
        except subprocess.TimeoutExpired:
            pass  # communicate keeps what it has read so far
        if ctx is not None and ctx.is_cancelled():
            child.kill()
            raise Cancelled()
        if time.monotonic() > deadline:
            child.kill()
            raise _timeout(name, limits)


def _timeout(name: str, limits: Limits) -> ToolError:
    return ToolError(
        "RENDER_TIMEOUT",
        f"{name}: rendering the SVG took longer than the {limits.timeout_s:g} s limit",
        422,
    )


def _answer(
    returncode: int | None, out: bytes, err: bytes, name: str, limits: Limits
) -> dict[str, Any]:
    """The child's JSON answer, or the ToolError its exit status means."""
    if returncode == 0:
        found: dict[str, Any] = json.loads(out)
        if found.get("error") == "corrupt":
            message = f"{name} could not be rendered: {found['message']}"
            raise ToolError("CORRUPT_IMAGE", message, 422)
        if found.get("error") == "render":  # the document parsed: the drawing is the problem
            raise ToolError(
                "SVG_TOO_COMPLEX",
                f"{name}: rendering the SVG failed ({found['message']}); it may need more "
                f"than the {limits.memory_mb} MiB memory limit",
                422,
            )
        return found
    if returncode == -signal.SIGXCPU:  # its CPU limit, the twin of our deadline
        raise _timeout(name, limits)
    # RLIMIT_AS makes allocations fail; librsvg, cairo and fontconfig then abort or crash.
    logger.warning("SVG child exited with %s: %s", returncode, err[-2000:].decode(errors="replace"))
    raise ToolError(
        "SVG_TOO_COMPLEX",
        f"{name}: rendering the SVG stopped (exit status {returncode}): it needs more "
        f"than the {limits.memory_mb} MiB memory limit, or the renderer failed",
        422,
    )
