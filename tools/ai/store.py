"""Loaded models of this process: one per (model id, device), kept warm, unloaded when idle.

Loading a model costs seconds and hundreds of MB, so a worker loads it once and keeps it
for the next job (DESIGN.md, "AI runtime"). The store is a small LRU: past `capacity`
entries the least recently used goes, and `unload_idle` drops entries unused for
`idle_s`. Loads of the same key are serialised (two jobs asking at once load it once);
loads of different keys run in parallel. Nothing here knows what a model is: the caller
passes the loader.
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


@dataclass
class _Entry:
    value: Any
    loaded_at: float
    used_at: float


class ModelStore:
    """A thread-safe LRU of loaded models with idle unload."""

    def __init__(self, capacity: int = 4, idle_s: float = 600.0) -> None:
        self.capacity = capacity
        self.idle_s = idle_s
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Key, threading.Lock] = {}

    def get(self, key: Key, load: Callable[[], T]) -> T:
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
            now = time.monotonic()
            with self._lock:
                self._entries[key] = _Entry(value, now, now)
                while len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
            return value

    def _touch(self, key: Key) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                entry.used_at = time.monotonic()
                self._entries.move_to_end(key)
            return entry

    def unload_idle(self, now: float | None = None) -> list[Key]:
        """Drop the models unused for `idle_s`; returns their keys."""
        limit = (time.monotonic() if now is None else now) - self.idle_s
        with self._lock:
            idle = [k for k, e in self._entries.items() if e.used_at < limit]
            for key in idle:
                del self._entries[key]
        return idle

    def unload(self, key: Key) -> bool:
        with self._lock:
            return self._entries.pop(key, None) is not None

    def loaded(self) -> list[dict[str, Any]]:
        """What is loaded, least recently used first (for introspection endpoints)."""
        now = time.monotonic()
        with self._lock:
            return [
                {"model": k[0], "device": k[1], "idleS": round(now - e.used_at, 1)}
                for k, e in self._entries.items()
            ]


_process_store: ModelStore | None = None
_process_lock = threading.Lock()


def process_store() -> ModelStore:
    """This process's store, shared by every job the process runs."""
    global _process_store
    with _process_lock:
        if _process_store is None:
            _process_store = ModelStore()
        return _process_store
