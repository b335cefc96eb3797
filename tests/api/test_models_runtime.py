"""The per-process model runtime: settings applied, MODEL_PRELOAD pinned at worker start."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django_q.signals import post_spawn

from apps.models import runtime
from tests.shipped_models import shipped_models_dir
from tools.ai import onnx_session
from tools.ai.store import MB, ModelStore


@pytest.fixture
def store(monkeypatch: pytest.MonkeyPatch) -> ModelStore:
    fresh = ModelStore()
    monkeypatch.setattr(runtime, "process_store", lambda: fresh)
    return fresh


def test_the_settings_reach_the_store_and_onnxruntime(settings, store, monkeypatch):
    monkeypatch.setattr(onnx_session, "_defaults", dict(onnx_session._defaults))
    settings.MODEL_CACHE_MB, settings.MODEL_IDLE_UNLOAD_S = 512, 120
    settings.GPU_REQUIRED, settings.ORT_TENSORRT = True, True

    runtime.configure()

    assert (store.max_bytes, store.idle_s) == (512 * MB, 120)
    assert onnx_session._defaults == {"gpu_required": True, "tensorrt": True}


def test_an_unknown_model_in_model_preload_stops_the_start(settings):
    settings.MODEL_PRELOAD = ["realesrgan-x4plus", "no-such-model"]
    with pytest.raises(ImproperlyConfigured, match="no-such-model"):
        runtime.configure()


def test_a_starting_worker_process_loads_and_pins_the_preloaded_models(
    settings, store, monkeypatch
):
    settings.MODELS_DIR = shipped_models_dir()
    settings.MODEL_PRELOAD = ["realesr-animevideov3", "mediapipe-face-detector"]
    reporting: list[bool] = []
    monkeypatch.setattr(runtime, "start_reporting", lambda: reporting.append(True))

    post_spawn.send(sender="django_q", proc_name="Process-1")  # what django-q2 sends

    assert reporting == [True]  # and it reports what it holds, from a thread of its own

    loaded = {e["model"]: e for e in store.loaded()}
    assert set(loaded) == {
        f"realesr-animevideov3/realesr-animevideov3-x{s}.onnx" for s in (2, 3, 4)
    }  # the tflite model is left to its own engine
    assert all(e["pinned"] and e["device"] == "cpu" for e in loaded.values())
    assert store.unload_idle(now=10**9) == []  # pinned: never dropped as idle


def test_a_gpu_worker_without_a_gpu_says_so(settings, store):
    settings.MODELS_DIR = shipped_models_dir()
    settings.MODEL_PRELOAD = ["realesr-animevideov3"]
    settings.Q_CLUSTER_NAME = "gpu"

    assert runtime.preload()  # loaded, on the CPU

    session = store.get(("realesr-animevideov3/realesr-animevideov3-x2.onnx", "gpu"), lambda: None)
    assert session.device == "cpu" and session.fallback  # not silent


def test_a_missing_preloaded_model_is_skipped_not_fatal(settings, store, caplog):
    settings.MODEL_PRELOAD = ["u2netp"]  # settings.MODELS_DIR is this test's empty folder
    assert runtime.preload() == []
    assert "u2netp" in caplog.text and "not installed" in caplog.text


def test_django_qs_sync_mode_is_no_worker_process(settings, store, monkeypatch):
    """Sync mode runs a task in the calling process ("MainProcess"): no preload, no
    reporting thread (which would write to the database for the life of the process)."""
    settings.MODELS_DIR = shipped_models_dir()
    settings.MODEL_PRELOAD = ["realesr-animevideov3"]
    reporting: list[bool] = []
    monkeypatch.setattr(runtime, "start_reporting", lambda: reporting.append(True))

    post_spawn.send(sender="django_q", proc_name="MainProcess")

    assert reporting == [] and store.loaded() == []
