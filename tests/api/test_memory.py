"""apps.core.memory: malloc_trim when a process goes idle, at most once per MIN_INTERVAL_S."""

from __future__ import annotations

import platform
import sys

import pytest

from apps.core import memory

GLIBC = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """malloc_trim replaced by a recorder, and the last trim long ago."""
    calls: list[int] = []
    monkeypatch.setattr(memory, "_TRIM", calls.append)
    monkeypatch.setattr(memory, "_last", memory.time.monotonic() - memory.MIN_INTERVAL_S - 1)
    return calls


def test_trim_runs_once_then_not_again_within_the_interval(trims: list[int]) -> None:
    assert memory.trim() is True
    assert memory.trim() is False
    assert trims == [0]  # malloc_trim(0): every arena


def test_trim_runs_again_once_the_interval_has_passed(trims, monkeypatch) -> None:
    assert memory.trim() is True
    later = memory._last + memory.MIN_INTERVAL_S + 0.01
    monkeypatch.setattr(memory.time, "monotonic", lambda: later)

    assert memory.trim() is True
    assert memory.trim() is False  # the clock stands still: within the interval again
    assert trims == [0, 0]


def test_without_malloc_trim_nothing_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "_TRIM", None)
    monkeypatch.setattr(memory, "_last", 0.0)
    assert memory.trim() is False


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's")
def test_on_glibc_the_real_malloc_trim_is_found_and_runs(monkeypatch) -> None:
    assert memory._TRIM is not None
    monkeypatch.setattr(memory, "_last", memory.time.monotonic() - memory.MIN_INTERVAL_S - 1)
    assert memory.trim() is True
    assert memory._TRIM(0) in (0, 1)  # 1: memory was released, 0: there was none to release
