"""Loaded models of this process: one per (model id, device), kept warm, unloaded when idle.

Loading a model costs seconds and hundreds of MB, so a worker loads it once and keeps it
for the next job. The store is an LRU within a memory budget (`max_bytes`, the callers'
estimate of each model's size: its file size for ONNX); a model unused for `idle_s` is
dropped by a reaper thread (started with the first load); pinned models (MODEL_PRELOAD)
are never dropped. Loads of the same key are serialised (two jobs asking at once load it
once); loads of different keys run in parallel. The store does not know what a model is:
the caller passes the loader.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
Key = tuple[str, str]  # (model id, device)
MB = 1024 * 1024


@dataclass
class _Entry:
    value: Any
    size: int
    used_at: float
    pinned: bool


class ModelStore:
    """A thread-safe LRU of loaded models, within a memory budget, with idle unload."""

    def __init__(self, max_bytes: int = 4096 * MB, idle_s: float = 600.0) -> None:
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Key, threading.Lock] = {}
        self._reaper: threading.Thread | None = None
        self.loads = 0  # how many loads this process did (metrics, tests)

    def configure(self, max_mb: int, idle_s: float) -> None:
        self.max_bytes, self.idle_s = max_mb * MB, idle_s

    def get(self, key: Key, load: Callable[[], T], size: int = 0, pinned: bool = False) -> T:
        """The loaded model for `key`, calling `load()` only if it is not loaded yet."""
        found = self._touch(key)
        if found is not None:
            return found.value
        with self._lock:
            key_lock = self._loading.setdefault(key, threading.Lock())
        with key_lock:  # one load per key at a time; the others wait and then find it
            found = self._touch(key)
            if found is not None:
                return found.value
            value = load()
            with self._lock:
                self.loads += 1
                self._entries[key] = _Entry(value, size, time.monotonic(), pinned)
                self._evict(keep=key)
            self._start_reaper()
            return value

    def _touch(self, key: Key) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.used_at = time.monotonic()
                self._entries.move_to_end(key)
            return entry

    def _evict(self, keep: Key) -> None:
        """Least recently used first, until the budget holds (the newest always stays)."""
        for key in list(self._entries):
            if self.bytes_loaded() <= self.max_bytes:
                return
            if key != keep and not self._entries[key].pinned:
                del self._entries[key]

    def bytes_loaded(self) -> int:
        return sum(e.size for e in self._entries.values())

    def unload_idle(self, now: float | None = None) -> list[Key]:
        """Drop the models unused for `idle_s` (pinned ones stay); returns their keys."""
        limit = (time.monotonic() if now is None else now) - self.idle_s
        with self._lock:
            idle = [k for k, e in self._entries.items() if e.used_at < limit and not e.pinned]
            for key in idle:
                del self._entries[key]
        return idle

    def unload(self, key: Key) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def unload_model(self, model_id: str) -> list[Key]:
        """Drop every session of a model, on every device and of each of its files
        (`realesr-animevideov3/...-x2.onnx`), pinned ones too; returns their keys."""
        with self._lock:
            keys = [k for k in self._entries if k[0] == model_id or k[0].startswith(model_id + "/")]
            for key in keys:
                del self._entries[key]
        return keys

    def loaded(self) -> list[dict[str, Any]]:
        """What is loaded, least recently used first (for introspection endpoints)."""
        now = time.monotonic()
        with self._lock:
            return [
                {
                    "model": k[0],
                    "device": k[1],
                    "bytes": e.size,
                    "pinned": e.pinned,
                    "idleS": round(now - e.used_at, 1),
                }
                for k, e in self._entries.items()
            ]

    def _start_reaper(self) -> None:
        with self._lock:
            if self._reaper is not None:
                return
            self._reaper = threading.Thread(target=self._reap, name="model-reaper", daemon=True)
        self._reaper.start()

    def _reap(self) -> None:
        while True:
            time.sleep(max(1.0, min(self.idle_s / 4, 30.0)))
            self.unload_idle()


_process_store: ModelStore | None = None
_process_lock = threading.Lock()


def process_store() -> ModelStore:
    """This process's store, shared by every job the process runs."""
    global _process_store
    with _process_lock:
        if _process_store is None:
            _process_store = ModelStore()
        return _process_store
