"""GET /api/v1/system/hardware: this machine's CPU, memory and GPUs, read for real."""

from __future__ import annotations

import os

import onnxruntime
import pytest

from tests.api.support import assert_error

pytestmark = pytest.mark.django_db


def test_a_user_reads_the_cpu_memory_and_onnxruntime_of_this_machine(user_client):
    response = user_client.get("/api/v1/system/hardware")

    assert response.status_code == 200, response.content[:300]
    body = response.json()
    assert body["cpu"]["cores"] == os.cpu_count() and body["cpu"]["cores"] >= 1
    assert 1 <= body["cpu"]["usableCores"] <= body["cpu"]["cores"]
    memory = body["memory"]
    assert memory["totalBytes"] > 0
    assert 0 < memory["availableBytes"] <= memory["totalBytes"]
    assert body["onnxruntime"] == {
        "available": True,
        "version": onnxruntime.__version__,
        "providers": onnxruntime.get_available_providers(),
    }
    assert "CPUExecutionProvider" in body["onnxruntime"]["providers"]
    assert body["system"]["python"]


def test_gpus_are_listed_or_the_reason_there_are_none_is_given(user_client):
    body = user_client.get("/api/v1/system/hardware").json()

    assert isinstance(body["gpus"], list)
    if body["gpus"]:
        gpu = body["gpus"][0]
        assert gpu["name"] and gpu["memoryTotalBytes"] > 0 and gpu["driver"]
    else:
        assert body["gpuNote"]  # no nvidia-ml-py, no driver, or no GPU: said so


def test_hardware_needs_a_signed_in_caller(anon):
    assert_error(anon.get("/api/v1/system/hardware"), 401, "AUTH_REQUIRED")


def test_the_spec_documents_the_system_routes(anon):
    paths = anon.get("/api/v1/openapi.yaml").content.decode()

    for route in ("hardware", "features", "doctor"):
        assert f"/api/v1/system/{route}:" in paths
    assert "\n  /metrics:" not in paths  # Prometheus text, documented in README
