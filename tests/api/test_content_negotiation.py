"""No `Accept` header a generic client sends gets 406: files come with their own type,
JSON answers (jobs, errors) stay JSON."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.support import assert_error
from tests.badfiles import FIXTURES

pytestmark = pytest.mark.django_db

ACCEPTS = ["*/*", "application/octet-stream", "image/jpeg", "image/*", "text/html"]


def photo() -> SimpleUploadedFile:
    return SimpleUploadedFile("p.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


@pytest.mark.parametrize("accept", ACCEPTS)
def test_a_tool_answers_its_file_whatever_the_client_accepts(user_client, accept):
    body = {"file": photo(), "settings": '{"width": 16}'}
    response = user_client.post("/api/v1/tools/resize", body, HTTP_ACCEPT=accept)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("accept", ACCEPTS)
def test_json_answers_and_errors_stay_json(user_client, accept):
    listing = user_client.get("/api/v1/jobs", HTTP_ACCEPT=accept)
    missing_file = user_client.post(
        "/api/v1/tools/resize", {"settings": '{"width": 16}'}, HTTP_ACCEPT=accept
    )

    assert listing.status_code == 200 and listing.json()["jobs"] == []
    assert_error(missing_file, 400, "NO_FILE")
