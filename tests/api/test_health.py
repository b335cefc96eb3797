"""GET /api/v1/health: public liveness and database check."""

import time
from typing import Any

from django.db import DatabaseError


def test_health_is_public_and_reports_the_version(anon, settings, db):
    response = anon.get("/api/v1/health")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body == {"status": "ok", "version": settings.VERSION, "time": body["time"]}
    assert abs(body["time"] - time.time()) < 60  # unix seconds (the upscale service's shape)


def test_health_ignores_a_garbage_token(client_for, settings, db):
    response = client_for("garbage").get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_health_is_not_rate_limited(anon, settings, db):
    settings.RATE_LIMIT_PER_MIN = 1
    for _ in range(5):
        assert anon.get("/api/v1/health").status_code == 200


def test_health_reports_a_database_outage_as_503(anon, settings, monkeypatch, db):
    class DownConnection:
        def cursor(self) -> Any:
            raise DatabaseError("connection refused")

    monkeypatch.setattr("apps.core.views.connection", DownConnection())
    response = anon.get("/api/v1/health")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "version": settings.VERSION, "database": "down"}
