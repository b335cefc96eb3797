"""GET /metrics: Prometheus text that parses, with the jobs, queues and models of this
database and disk; readable with METRICS_TOKEN or as an admin, by nobody else."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from apps.jobs.models import Job
from tests.api.support import assert_error
from tests.live.stack import ROOT
from tests.shipped_models import shipped_models_dir
from tools.ai import engines, install
from tools.ai.catalog import catalog

pytestmark = pytest.mark.django_db

TOKEN = "metrics-token-for-the-tests-0123456789"
Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(client: Any) -> Samples:
    """Every sample of a scrape, by (name, sorted labels)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def job(
    owner: Any,
    tool: str,
    status: str,
    queue: str = "cpu",
    ran_s: float | None = None,
    finished_ago: timedelta = timedelta(minutes=5),
) -> Job:
    """A Job row; with `ran_s`, finished `finished_ago` after running that long."""
    row = Job.objects.create(owner=owner, tool_id=tool, status=status, queue=queue)
    if ran_s is not None:
        finished = timezone.now() - finished_ago
        row.started_at, row.finished_at = finished - timedelta(seconds=ran_s), finished
        row.save()
    return row


@pytest.fixture
def jobs(user) -> None:
    job(user, "resize", "completed", ran_s=0.3)
    job(user, "resize", "completed", ran_s=4.0)
    job(user, "resize", "completed", ran_s=50.0, finished_ago=timedelta(hours=2))  # too old
    job(user, "compress", "failed", ran_s=1.0)
    job(user, "resize", "queued")
    job(user, "compress", "queued")
    job(user, "upscale", "queued", queue="gpu")


def test_the_job_counts_by_tool_and_status(admin_client, jobs):
    samples = scrape(admin_client)

    def count(tool: str, status: str) -> float:
        return samples.get(("pixelsmith_jobs", (("status", status), ("tool", tool))), 0)

    assert count("resize", "completed") == 3
    assert count("resize", "queued") == 1
    assert count("compress", "failed") == 1
    assert count("compress", "queued") == 1
    assert count("upscale", "queued") == 1


def test_the_queue_depth_per_queue(admin_client, jobs):
    samples = scrape(admin_client)

    assert samples[("pixelsmith_queue_depth", (("queue", "cpu"),))] == 2
    assert samples[("pixelsmith_queue_depth", (("queue", "gpu"),))] == 1


def test_an_idle_queue_reads_zero(admin_client, settings):
    settings.GPU_QUEUE = True

    samples = scrape(admin_client)

    assert samples[("pixelsmith_queue_depth", (("queue", "cpu"),))] == 0
    assert samples[("pixelsmith_queue_depth", (("queue", "gpu"),))] == 0


def test_the_durations_of_the_last_hours_completed_jobs(admin_client, jobs):
    samples = scrape(admin_client)

    def bucket(le: str) -> float:
        labels = (("le", le), ("tool", "resize"))
        return samples[("pixelsmith_job_duration_seconds_bucket", labels)]

    assert (bucket("0.25"), bucket("0.5"), bucket("5"), bucket("30"), bucket("+Inf")) == (
        0,
        1,
        2,
        2,
        2,
    )  # the job of two hours ago is out of the window
    gsum = samples[("pixelsmith_job_duration_seconds_gsum", (("tool", "resize"),))]
    assert gsum == pytest.approx(4.3, abs=0.01)
    # failed jobs are not in it
    assert ("pixelsmith_job_duration_seconds_gcount", (("tool", "compress"),)) not in samples


def test_installed_models_and_their_bytes(admin_client, settings):
    # An empty MODELS_DIR: only system models (Tesseract, where the machine has it) count.
    system = [s for s in catalog().values() if s.source.kind == "system"]
    present = sum(install.status(settings.MODELS_DIR, s) == "installed" for s in system)
    assert scrape(admin_client)[("pixelsmith_models_installed", ())] == present

    settings.MODELS_DIR = shipped_models_dir()
    samples = scrape(admin_client)

    labels = (("engine", "onnxruntime"), ("model", "realesrgan-x4plus"))
    assert samples[("pixelsmith_model_installed", labels)] == 1
    assert samples[("pixelsmith_models_installed", ())] >= 11
    x4 = shipped_models_dir() / "realesrgan-x4plus" / "realesrgan-x4plus.onnx"
    assert samples[("pixelsmith_models_installed_bytes", ())] > x4.stat().st_size


def test_the_engines_this_process_can_use(admin_client):
    samples = scrape(admin_client)

    for engine in engines.ENGINES:
        value = samples[("pixelsmith_engine_available", (("engine", engine),))]
        assert value == (1 if engines.check(engine).available else 0)


def test_gpu_memory_when_nvml_sees_a_gpu(admin_client, monkeypatch):
    gpu = {
        "index": 0,
        "name": "NVIDIA H100",
        "memoryTotalBytes": 80 * 2**30,
        "memoryUsedBytes": 2**30,
        "memoryFreeBytes": 79 * 2**30,
        "driver": "550.54",
    }
    monkeypatch.setattr(engines, "gpu_devices", lambda: ([gpu], None))

    samples = scrape(admin_client)

    labels = (("gpu", "0"), ("name", "NVIDIA H100"))
    assert samples[("pixelsmith_gpu_memory_total_bytes", labels)] == 80 * 2**30
    assert samples[("pixelsmith_gpu_memory_used_bytes", labels)] == 2**30


def test_no_gpu_metrics_without_a_gpu(admin_client, monkeypatch):
    monkeypatch.setattr(engines, "gpu_devices", lambda: ([], "no NVIDIA driver"))

    assert not any(name.startswith("pixelsmith_gpu") for name, _ in scrape(admin_client))


def test_each_scrape_starts_afresh(admin_client, user):
    first = scrape(admin_client)
    job(user, "resize", "queued")

    second = scrape(admin_client)

    key = ("pixelsmith_jobs", (("status", "queued"), ("tool", "resize")))
    assert key not in first and second[key] == 1


# --- who may scrape ------------------------------------------------------------------


def test_the_metrics_token_is_accepted(client_for, settings):
    settings.METRICS_TOKEN = TOKEN

    assert ("pixelsmith_info", (("version", settings.VERSION),)) in scrape(client_for(TOKEN))


def test_prometheus_accept_header_gets_the_text(client_for, settings):
    settings.METRICS_TOKEN = TOKEN
    accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"

    response = client_for(TOKEN).get("/metrics", HTTP_ACCEPT=accept)

    assert response.status_code == 200 and response.content.startswith(b"# HELP")


def test_a_wrong_token_is_401(client_for, settings):
    settings.METRICS_TOKEN = TOKEN

    assert_error(client_for(TOKEN + "x").get("/metrics"), 401, "AUTH_INVALID")


def test_the_token_is_refused_when_none_is_configured(client_for, settings):
    settings.METRICS_TOKEN = ""

    assert_error(client_for(TOKEN).get("/metrics"), 401, "AUTH_INVALID")


def test_the_metrics_token_opens_nothing_else(client_for, settings):
    settings.METRICS_TOKEN = TOKEN

    response = client_for(TOKEN).get("/api/v1/system/doctor")

    assert_error(response, 401, "AUTH_INVALID")


@pytest.mark.parametrize("token_set", [True, False])
def test_a_plain_user_is_403_and_anonymous_401(user_client, anon, settings, token_set):
    settings.METRICS_TOKEN = TOKEN if token_set else ""

    assert_error(user_client.get("/metrics"), 403, "FORBIDDEN")
    assert_error(anon.get("/metrics"), 401, "AUTH_REQUIRED")


def test_an_admin_reads_it_by_session_or_api_key(admin_client, admin_user, api_key_for, client_for):
    assert scrape(admin_client)
    assert scrape(client_for(api_key_for(admin_user)))


def test_a_user_api_key_is_403(user, api_key_for, client_for):
    assert_error(client_for(api_key_for(user)).get("/metrics"), 403, "FORBIDDEN")


# --- the setting ------------------------------------------------------------------------


def settings_with(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    code = "import config.settings as s; print(repr(s.METRICS_TOKEN))"
    base = {k: v for k, v in os.environ.items() if k != "METRICS_TOKEN"}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, "DATA_DIR": str(tmp_path), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_metrics_token_comes_from_the_environment(tmp_path):
    done = settings_with(tmp_path, METRICS_TOKEN=f" {TOKEN} ")

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == repr(TOKEN)
    assert settings_with(tmp_path).stdout.strip() == "''"


def test_a_short_metrics_token_stops_start_up(tmp_path):
    done = settings_with(tmp_path, METRICS_TOKEN="short")

    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "METRICS_TOKEN must be at least" in done.stderr
