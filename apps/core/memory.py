"""Give freed memory back to the system.

glibc's malloc keeps what a process freed for reuse: after a burst of requests or a
batch, a process stays at its peak. malloc_trim(0) returns the free pages of every arena
(bench/http_compare.py measured the web process at 150 MiB after a load, 122 MiB after a
trim; issue 14). It costs about a millisecond, so it runs when a process goes idle: the
web process when its last request ends, a worker after each job.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import time
from typing import Any

log = logging.getLogger(__name__)
MIN_INTERVAL_S = 1.0  # at most this often: a process idle between requests trims once


def _libc_trim() -> Any:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        return None


_TRIM = _libc_trim()
_last = 0.0


def trim() -> bool:
    """malloc_trim(0), unless it ran less than MIN_INTERVAL_S ago; True if it ran."""
    global _last
    now = time.monotonic()
    if _TRIM is None or now - _last < MIN_INTERVAL_S:
        return False
    _last = now
    _TRIM(0)
    return True
