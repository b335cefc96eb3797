"""The video limits of this process, set once by the apps from the settings module.

`tools/` never reads Django settings, so the apps call `configure` at start-up (as they do
for `imaging.configure`); the defaults here are the settings' defaults, for callers that
run the engine without Django (bench/, the engine tests).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    """What one video job may be: checked from the container's header before any frame."""

    max_seconds: int = 1800  # MAX_VIDEO_SECONDS: the input's duration
    max_pixels: int = 3840 * 2160  # MAX_VIDEO_PIXELS: one output frame (4K UHD)
    max_upload_mb: int = 100  # MAX_UPLOAD_SIZE_MB: also for files taken from the library
    segment_seconds: float = 10.0  # VIDEO_SEGMENT_SECONDS: work lost at most by a crash


_current = Limits()


def configure(**changes: Any) -> Limits:
    """Replace some limits (names as in `Limits`); returns the previous ones."""
    global _current
    previous = _current
    _current = replace(_current, **changes)
    return previous


def current() -> Limits:
    return _current
