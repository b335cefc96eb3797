"""The child process of `tools.svg_render`: read or render one SVG under hard limits.

The parent runs `python -P -S svg_child.py JOB` (JOB is JSON: the sanitised SVG's file,
options, limits) and reads one JSON object from stdout: the header (`width`, `height`,
`bands`, `xres`, `yres`), `over_limit` when it is over `max_pixels`, or `error` ("corrupt":
librsvg could not parse it; "render": it failed while drawing) and `message`. When JOB
names an `out` file, the drawing is rendered into it as a VIPS native `.v` file.

This file imports only the standard library and pyvips, never `tools` or Django: it runs
as a script without site (-S), so start-up is the interpreter plus pyvips, under 0.1 s.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import re
import resource
import signal
import sys
from typing import Any

_PR_SET_PDEATHSIG = 1


def _set_limits(cpu_s: int, memory_bytes: int) -> None:
    """CPU seconds (SIGXCPU at the soft limit, SIGKILL one second later), address space
    (allocations beyond it fail), and no core file when a limit ends the process."""
    wanted = (
        (resource.RLIMIT_CPU, cpu_s, cpu_s + 1),
        (resource.RLIMIT_AS, memory_bytes, memory_bytes),
        (resource.RLIMIT_CORE, 0, 0),
    )
    for which, soft, hard in wanted:
        _, current_hard = resource.getrlimit(which)
        if current_hard != resource.RLIM_INFINITY:  # a limit can only be lowered
            soft, hard = min(soft, current_hard), min(hard, current_hard)
        resource.setrlimit(which, (soft, hard))


def _die_with_parent(parent: int) -> None:
    """Linux: have the kernel kill this process if the parent dies, so an orphan cannot
    render on (the CPU limit would still end it)."""
    with contextlib.suppress(OSError, AttributeError):  # not Linux: the CPU limit remains
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        sys.exit(1)


def _message(detail: str) -> str:
    """The first useful line of a libvips error, without file system paths."""
    lines = [line.strip() for line in detail.splitlines()]
    useful = [line for line in lines if line and not line.startswith("unable to call")]
    text = useful[0] if useful else "not a valid SVG"
    return re.sub(r"\"?(/[^\s\"/]+){2,}/?\"?", "(file)", text)


def _run(svg: bytes, job: dict[str, Any]) -> dict[str, Any]:
    import pyvips  # after the limits, so its start-up is bounded too

    opts = {"dpi": job["dpi"], "scale": job["scale"], "access": "sequential"}
    try:  # librsvg parses the whole document here and sizes it; it draws nothing yet
        image = pyvips.Image.svgload_buffer(svg, **opts)
    except pyvips.Error as exc:
        return {"error": "corrupt", "message": _message(str(exc.detail or exc.message))}
    header = {
        "width": image.width,
        "height": image.height,
        "bands": image.bands,
        "xres": image.xres,
        "yres": image.yres,
    }
    max_pixels = job.get("max_pixels")
    if max_pixels is not None and image.width * image.height > max_pixels:
        return {**header, "over_limit": True}
    if job.get("out"):
        try:  # uncompressed: the parent maps it lazily
            image.write_to_file(job["out"])
        except pyvips.Error as exc:  # a parsed drawing fails for want of memory, or a limit
            return {"error": "render", "message": _message(str(exc.detail or exc.message))}
    return header


def main() -> None:
    job = json.loads(sys.argv[1])
    _set_limits(job["cpu_s"], job["memory_bytes"])
    _die_with_parent(job["parent"])
    sys.path[:] = job["path"]  # where the parent finds pyvips
    with open(job["svg"], "rb") as fh:
        svg = fh.read()
    json.dump(_run(svg, job), sys.stdout)


if __name__ == "__main__":
    main()
