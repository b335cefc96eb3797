"""GET /api/v1/system/doctor: every check present, each status earned by the real state
(disk space, the models on disk, the upkeep schedule a cpu worker keeps on time, jobs on
the gpu queue), admins only."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from django.db import connection
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import Schedule
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

from apps.jobs.models import Job
from apps.system import doctor
from tests.api.support import assert_error
from tests.shipped_models import shipped_models_dir
from tools.ai import engines

pytestmark = pytest.mark.django_db

NAMES = [
    "database",
    "broker",
    "worker:cpu",
    "disk",
    "models",
    "libvips",
    "engine:onnxruntime",
    "engine:ncnn",
    "engine:tflite",
    "engine:tesseract",
]


def run(client: Any) -> dict[str, Any]:
    response = client.get("/api/v1/system/doctor")
    assert response.status_code == 200, response.content[:300]
    return response.json()


def checks_of(client: Any) -> dict[str, dict[str, Any]]:
    return {check["name"]: check for check in run(client)["checks"]}


@pytest.fixture
def worker_alive() -> None:
    """The upkeep schedule as a running cpu worker keeps it: next due within the minute."""
    Schedule.objects.filter(func=doctor.UPKEEP_FUNC).update(
        next_run=timezone.now() + timedelta(seconds=40)
    )


def test_every_check_answers_with_a_status_detail_and_fix(admin_client):
    body = run(admin_client)

    assert [c["name"] for c in body["checks"]] == NAMES
    for check in body["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in {"ok", "warn", "fail"} and check["detail"]
    ranks = {"ok": 0, "warn": 1, "fail": 2}
    assert body["status"] == max((c["status"] for c in body["checks"]), key=ranks.__getitem__)


def test_the_database_and_the_orm_broker_answer(admin_client):
    checks = checks_of(admin_client)

    vendor = connection.vendor  # sqlite here, postgresql in CI
    assert checks["database"]["status"] == "ok" and vendor in checks["database"]["detail"]
    assert checks["broker"]["status"] == "ok"
    assert "ORM broker" in checks["broker"]["detail"]


def test_disk_fails_below_the_reserve(admin_client, settings):
    settings.MIN_FREE_DISK_MB = 10**9  # a petabyte: no test machine has it free

    disk = checks_of(admin_client)["disk"]

    assert disk["status"] == "fail"
    assert "below MIN_FREE_DISK_MB" in disk["detail"] and disk["fix"]


@pytest.mark.parametrize(("minimum", "status"), [(2000, "fail"), (500, "warn"), (300, "ok")])
def test_disk_warns_below_three_times_the_reserve(
    admin_client, settings, monkeypatch, minimum, status
):
    settings.MIN_FREE_DISK_MB = minimum
    monkeypatch.setattr(doctor, "free_mb", lambda: 1000.0)

    assert checks_of(admin_client)["disk"]["status"] == status


def test_models_fail_on_an_empty_models_dir_with_the_install_command(admin_client):
    models = checks_of(admin_client)["models"]

    assert models["status"] == "fail"
    assert models["fix"] == "manage.py models install --shipped"
    assert "realesrgan-x4plus" in models["detail"] and "u2netp" in models["detail"]


def test_models_pass_when_every_shipped_model_is_installed(admin_client, settings):
    settings.MODELS_DIR = shipped_models_dir()

    models = checks_of(admin_client)["models"]

    assert models["status"] == "ok" and models["fix"] is None


def test_a_damaged_model_file_fails_the_models_check(admin_client, settings, tmp_path: Path):
    shipped = shipped_models_dir()
    settings.MODELS_DIR = tmp_path / "models"
    settings.MODELS_DIR.mkdir()
    for folder in shipped.iterdir():
        if folder.is_dir() and not folder.name.startswith(".") and folder.name != "u2netp":
            (settings.MODELS_DIR / folder.name).symlink_to(folder, target_is_directory=True)
    (settings.MODELS_DIR / "u2netp").mkdir()
    (settings.MODELS_DIR / "u2netp" / "u2netp.onnx").write_bytes(b"damaged")

    models = checks_of(admin_client)["models"]

    assert models["status"] == "fail"
    assert models["detail"].endswith("u2netp (corrupt)")


def test_no_cpu_worker_when_the_upkeep_is_long_overdue(admin_client):
    Schedule.objects.filter(func=doctor.UPKEEP_FUNC).update(
        next_run=timezone.now() - timedelta(minutes=10)
    )

    worker = checks_of(admin_client)["worker:cpu"]

    assert worker["status"] == "fail"
    assert "no cpu worker is running" in worker["detail"]
    assert "manage.py worker" in worker["fix"]


def test_a_cpu_worker_keeps_the_upkeep_on_time(admin_client, worker_alive):
    worker = checks_of(admin_client)["worker:cpu"]

    assert worker["status"] == "ok" and worker["fix"] is None


def test_without_the_upkeep_schedule_the_cpu_worker_is_unknown(admin_client):
    Schedule.objects.filter(func=doctor.UPKEEP_FUNC).delete()

    worker = checks_of(admin_client)["worker:cpu"]

    assert worker["status"] == "warn" and worker["detail"].startswith("unknown")


def test_the_gpu_queue_is_checked_only_when_it_is_in_use(admin_client, settings):
    assert "worker:gpu" not in checks_of(admin_client)

    settings.GPU_QUEUE = True
    gpu = checks_of(admin_client)["worker:gpu"]

    assert gpu["status"] == "warn" and "no job ran on it yet" in gpu["detail"]


def test_a_gpu_job_with_a_fresh_heartbeat_shows_a_gpu_worker(admin_client, settings, user):
    settings.GPU_QUEUE = True
    now = timezone.now()
    Job.objects.create(
        owner=user, tool_id="upscale", queue="gpu", status="processing", heartbeat_at=now
    )

    assert checks_of(admin_client)["worker:gpu"]["status"] == "ok"


def test_gpu_jobs_waiting_past_the_stale_time_mean_no_gpu_worker(admin_client, user):
    job = Job.objects.create(owner=user, tool_id="upscale", queue="gpu")
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))

    gpu = checks_of(admin_client)["worker:gpu"]  # an unfinished gpu job: checked

    assert gpu["status"] == "fail"
    assert "1 job(s) have waited on the gpu queue" in gpu["detail"]
    assert "Q_CLUSTER_NAME=gpu" in gpu["fix"]


def test_libvips_reports_its_version_and_loaders(admin_client):
    libvips = checks_of(admin_client)["libvips"]

    assert libvips["status"] == "ok"
    assert libvips["detail"].startswith("libvips 8.")
    assert "jpeg, png, webp" in libvips["detail"]


def test_engines_report_what_this_process_can_import(admin_client):
    checks = checks_of(admin_client)

    assert checks["engine:onnxruntime"]["status"] == "ok"
    tflite = checks["engine:tflite"]
    if not engines.check("tflite").available:  # mediapipe is not installed yet
        assert tflite["status"] == "warn"
        assert tflite["fix"] == "pip install --no-deps mediapipe==1.2.2"
        assert "blur-faces" in tflite["detail"]


def test_a_check_that_crashes_is_a_failed_check(admin_client, monkeypatch):
    def broken() -> float:
        raise OSError("the disk went away")

    monkeypatch.setattr(doctor, "free_mb", broken)

    disk = checks_of(admin_client)["disk"]

    assert disk["status"] == "fail" and "the disk went away" in disk["detail"]


def test_everything_ok_gives_an_ok_doctor(admin_client, settings, monkeypatch, worker_alive):
    settings.MODELS_DIR = shipped_models_dir()
    monkeypatch.setattr(doctor, "engine_checks", lambda: [])  # this machine lacks some

    assert run(admin_client)["status"] == "ok"


# --- with Redis (TEST_REDIS_URL: .ci/run exports it and starts Redis) ----------------------


@pytest.fixture
def redis_broker(settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[redis.Redis]:
    """REDIS_URL and django-q2's Redis broker on the tests' Redis database."""
    url = os.environ.get("TEST_REDIS_URL", "")
    client = redis.Redis.from_url(url or "redis://127.0.0.1:6379/15", socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError:
        pytest.fail("needs Redis at TEST_REDIS_URL or 127.0.0.1:6379 (.ci/run starts it)")
    settings.REDIS_URL = url or "redis://127.0.0.1:6379/15"
    monkeypatch.setattr(Conf, "ORM", None)
    monkeypatch.setattr(Conf, "REDIS", settings.REDIS_URL)
    yield client
    client.close()


def test_the_redis_broker_answers_with_its_queue_lengths(admin_client, redis_broker):
    queue = get_broker("cpu")
    queue.delete_queue()
    queue.enqueue("a message")
    try:
        broker = checks_of(admin_client)["broker"]
    finally:
        queue.delete_queue()

    assert broker["status"] == "ok"
    assert broker["detail"].startswith("Redis at ") and "cpu: 1" in broker["detail"]


def test_with_redis_the_worker_check_sees_the_clusters(admin_client, redis_broker, worker_alive):
    for key in redis_broker.keys(f"{Conf.Q_STAT}:*"):
        redis_broker.delete(key)

    worker = checks_of(admin_client)["worker:cpu"]
    assert worker["status"] == "fail" and "no django-q2 cluster" in worker["detail"]

    cluster = Status(pid=1, cluster_id=uuid.uuid4())
    key = Stat.get_key(cluster.cluster_id)
    get_broker().set_stat(key, SignedPackage.dumps(cluster, True), 30)
    try:
        worker = checks_of(admin_client)["worker:cpu"]
    finally:
        redis_broker.delete(key)
    assert worker["status"] == "ok"
    assert f"reporting to Redis: {cluster.host} (Stopped)" in worker["detail"]


def test_an_unreachable_redis_fails_the_broker_check(admin_client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    broker = checks_of(admin_client)["broker"]

    assert broker["status"] == "fail" and broker["fix"] == "check REDIS_URL"
    assert broker["detail"].startswith("Redis at 127.0.0.1:1 does not answer")


def test_the_doctor_is_for_admins(user_client, anon):
    assert_error(user_client.get("/api/v1/system/doctor"), 403, "FORBIDDEN")
    assert_error(anon.get("/api/v1/system/doctor"), 401, "AUTH_REQUIRED")
