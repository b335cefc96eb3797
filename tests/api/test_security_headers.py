"""Security headers on every response; a Content-Security-Policy on HTML pages; HSTS only
over https."""

from __future__ import annotations

import pytest

from apps.core.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def test_an_html_page_gets_the_content_security_policy_and_may_not_be_framed(anon):
    response = anon.get("/login")

    assert response["Content-Type"].startswith("text/html")
    assert response["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_the_api_docs_page_runs_under_the_policy(anon):
    """Swagger UI's init script is served as a file of its own (no inline script)."""
    page = anon.get("/api/docs")
    body = page.content.decode()

    assert page["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "<script>" not in body
    script = anon.get("/api/docs?script=")
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")


def test_json_answers_get_nosniff_and_the_referrer_policy_but_no_csp(user_client):
    response = user_client.get("/api/v1/teams")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "Content-Security-Policy" not in response


def test_hsts_is_sent_over_https_only(anon, settings):
    settings.SECURE_HSTS_SECONDS = 31536000

    plain = anon.get("/api/v1/health")
    secure = anon.get("/api/v1/health", secure=True)

    assert "Strict-Transport-Security" not in plain
    assert secure["Strict-Transport-Security"] == "max-age=31536000"
