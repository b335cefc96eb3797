"""The deployment files: every setting documented and in .env.example, compose's start
order and healthchecks, and the workers' liveness check."""

from __future__ import annotations

import re
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from apps.models.models import WorkerModels

ROOT = Path(__file__).resolve().parents[2]
SET_BY_COMPOSE = {"DATABASE_URL", "REDIS_URL", "DATA_DIR", "Q_CLUSTER_NAME", "SECRET_KEY"}


def settings_read() -> set[str]:
    """Every environment variable config/settings.py, scripts/serve.sh and config/serve.py
    read."""
    text = (ROOT / "config" / "settings.py").read_text()
    found = set(re.findall(r'env_(?:str|int|bool|list|choice)\(\s*"([A-Z][A-Z0-9_]*)"', text))
    serve = (ROOT / "scripts" / "serve.sh").read_text()
    found |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*):-", serve)) - {"PY"}
    launcher = (ROOT / "config" / "serve.py").read_text()
    return found | set(re.findall(r'env_(?:str|int|bool)\(\s*"([A-Z][A-Z0-9_]*)"', launcher))


def test_every_setting_is_documented_and_in_the_env_example():
    readme = (ROOT / "README.md").read_text()
    example = (ROOT / ".env.example").read_text()
    names = settings_read()

    assert {"SECRET_KEY", "TRUSTED_PROXIES", "MODEL_DOWNLOAD_HOSTS"} <= names
    assert sorted(n for n in names if f"`{n}`" not in readme) == []
    assert sorted(n for n in names - SET_BY_COMPOSE if f"# {n}=" not in example) == []
    assert re.search(r"^SECRET_KEY=$", example, re.M)  # to be filled in, once


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_migrations_run_once_before_web_and_workers_start(compose):
    services = compose["services"]
    assert services["migrate"]["restart"] == "no"
    assert "migrate --noinput" in " ".join(services["migrate"]["command"])
    for name in ("web", "worker", "gpu-worker"):
        needs = services[name]["depends_on"]
        assert needs["migrate"] == {"condition": "service_completed_successfully"}, name
        assert needs["db"] == needs["redis"] == {"condition": "service_healthy"}, name
        assert "migrate" not in " ".join(services[name]["command"]), name


def test_every_long_running_service_has_a_healthcheck(compose):
    for name, service in compose["services"].items():
        if name != "migrate":
            assert service.get("healthcheck", {}).get("test"), name
    assert compose["services"]["worker"]["healthcheck"]["test"][-1] == "worker_alive"
    assert set(compose["volumes"]) == {"data", "pgdata", "redisdata"}


@pytest.mark.django_db
def test_a_worker_is_alive_while_its_processes_report():
    host = socket.gethostname()
    row = WorkerModels.objects.create(worker=f"{host}:4242", queue="cpu", seen_at=timezone.now())

    call_command("worker_alive")

    row.seen_at = timezone.now() - timedelta(minutes=5)
    row.save()
    with pytest.raises(CommandError, match="no worker process"):
        call_command("worker_alive")


def test_make_runs_server_options_come_from_the_environment_and_bad_ones_stop_it(monkeypatch):
    from django.core.exceptions import ImproperlyConfigured

    from config.serve import web_options

    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("ACCESS_LOG", "yes")
    monkeypatch.delenv("WEB_WORKERS", raising=False)
    options = web_options()
    assert (options["port"], options["access_log"], options["workers"]) == (8080, True, 1)
    monkeypatch.setenv("WEB_WORKERS", "0")
    with pytest.raises(ImproperlyConfigured, match="WEB_WORKERS must be at least 1"):
        web_options()
