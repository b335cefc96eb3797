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
    assert loads == [1]


def test_past_its_capacity_the_least_recently_used_goes():
    store = ModelStore(capacity=2)
    store.get(("a", "cpu"), lambda: "a")
    store.get(("b", "cpu"), lambda: "b")
    store.get(("a", "cpu"), lambda: "a2")  # a is now the most recent
    store.get(("c", "cpu"), lambda: "c")
    assert [e["model"] for e in store.loaded()] == ["a", "c"]


def test_idle_models_are_unloaded():
    store = ModelStore(idle_s=60)
    store.get(("a", "cpu"), lambda: "a")
    assert store.unload_idle(now=time.monotonic() + 30) == []
    assert store.unload_idle(now=time.monotonic() + 61) == [("a", "cpu")]
    assert store.loaded() == []


def test_every_context_shares_the_process_store(tmp_path):
    assert Context(tmp_path).models is process_store() is Context(tmp_path / "x").models
