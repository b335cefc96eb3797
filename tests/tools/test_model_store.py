"""tools.ai.store: models loaded once per (id, device), kept warm, dropped when idle or old."""

from __future__ import annotations

import threading
import time

from tools.ai.store import ModelStore, process_store
from tools.base import Context


def test_a_model_is_loaded_once_and_then_served_from_the_store():
    store, loads = ModelStore(), []

    def load() -> object:
        loads.append(1)
        return object()

    first = store.get(("u2netp", "cpu"), load)
    assert store.get(("u2netp", "cpu"), load) is first
    assert store.get(("u2netp", "gpu"), load) is not first  # another device: its own session
    assert len(loads) == 2


def test_concurrent_first_uses_load_it_once():
    store, loads = ModelStore(), []
    barrier = threading.Barrier(4)

    def load() -> str:
        loads.append(1)
        time.sleep(0.1)
        return "model"

    def use() -> None:
        barrier.wait()
        assert store.get(("m", "cpu"), load) == "model"

    threads = [threading.Thread(target=use) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loads == [1] and store.loads == 1


def test_past_its_memory_budget_the_least_recently_used_goes():
    store = ModelStore(max_bytes=250)
    store.get(("a", "cpu"), lambda: "a", size=100)
    store.get(("b", "cpu"), lambda: "b", size=100)
    store.get(("a", "cpu"), lambda: "a2", size=100)  # a is now the most recent
    store.get(("c", "cpu"), lambda: "c", size=100)
    assert [e["model"] for e in store.loaded()] == ["a", "c"]
    assert store.bytes_loaded() == 200


def test_a_model_larger_than_the_budget_still_loads_alone():
    store = ModelStore(max_bytes=100)
    store.get(("small", "cpu"), lambda: "s", size=50)
    assert store.get(("big", "cpu"), lambda: "b", size=500) == "b"
    assert [e["model"] for e in store.loaded()] == ["big"]


def test_pinned_models_are_neither_evicted_nor_unloaded_when_idle():
    store = ModelStore(max_bytes=150, idle_s=60)
    store.get(("warm", "gpu"), lambda: "w", size=100, pinned=True)
    store.get(("other", "gpu"), lambda: "o", size=100)
    store.get(("third", "gpu"), lambda: "t", size=40)
    assert {e["model"] for e in store.loaded()} == {"warm", "third"}
    assert store.unload_idle(now=time.monotonic() + 3600) == [("third", "gpu")]
    assert [e["model"] for e in store.loaded()] == ["warm"]


def test_idle_models_are_unloaded():
    store = ModelStore(idle_s=60)
    store.get(("a", "cpu"), lambda: "a")
    assert store.unload_idle(now=time.monotonic() + 30) == []
    assert store.unload_idle(now=time.monotonic() + 61) == [("a", "cpu")]
    assert store.loaded() == []


def test_every_context_shares_the_process_store(tmp_path):
    assert Context(tmp_path).models is process_store() is Context(tmp_path / "x").models
