"""Size limits (middleware and the ASGI BodyLimit wrapper) and RATE_LIMIT_PER_MIN."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.jobs.models import Job
from config.asgi import BodyLimit
from tests.aio import run_async
from tests.api.support import assert_error
from tests.conftest import FIXTURES

MB = 1024 * 1024
Message = dict[str, Any]


# --- UploadLimitMiddleware (WSGI and the test client) ------------------------------------


def test_an_upload_over_max_upload_size_is_refused_before_the_view_runs(user_client, settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    big = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff" + b"\0" * (2 * MB))
    response = user_client.post(
        "/api/v1/tools/resize",
        {"file": big, "settings": json.dumps({"width": 100})},
        format="multipart",
    )
    body = assert_error(response, 413, "FILE_TOO_LARGE")
    assert "1 MB" in body["error"]
    assert not Job.objects.exists()


def test_an_upload_under_max_upload_size_reaches_the_tool(user_client, settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    photo = SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes())
    response = user_client.post(
        "/api/v1/tools/resize",
        {"file": photo, "settings": json.dumps({"width": 100})},
        format="multipart",
    )
    assert response.status_code == 200, response.content[:300]
    assert Job.objects.count() == 1


def test_an_invalid_content_length_is_a_json_400(user_client):
    response = user_client.generic(
        "POST", "/api/v1/teams", b"{}", content_type="application/json", CONTENT_LENGTH="lots"
    )
    assert_error(response, 400, "BAD_REQUEST")


# --- config.asgi.BodyLimit, driven as a bare ASGI app ------------------------------------


class RecordingApp:
    """An inner ASGI app that reads the whole body, then answers 200 with its length."""

    def __init__(self, respond_first: bool = False) -> None:
        self.called = False
        self.received: list[Message] = []
        self.respond_first = respond_first

    async def __call__(self, scope: Message, receive: Any, send: Any) -> None:
        self.called = True
        if self.respond_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        while True:
            message = await receive()
            self.received.append(message)
            if message["type"] == "http.disconnect" or not message.get("more_body"):
                break
        if message["type"] == "http.disconnect":
            return
        size = sum(len(m.get("body", b"")) for m in self.received)
        if not self.respond_first:
            await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": f"got {size}".encode()})


class Client:
    """Hand-made receive/send for one request; counts how often receive() is called."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.messages = [
            {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
            for i, c in enumerate(chunks)
        ]
        self.receive_calls = 0
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        self.receive_calls += 1
        if self.messages:
            return self.messages.pop(0)
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        self.sent.append(message)

    def status(self) -> int:
        starts = [m for m in self.sent if m["type"] == "http.response.start"]
        assert len(starts) == 1, self.sent
        return starts[0]["status"]

    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent if m["type"] == "http.response.body")


def http_scope(headers: list[tuple[bytes, bytes]], path: str = "/api/v1/teams") -> Message:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
    }


def run(app: Callable[..., Any], scope: Message, client: Client) -> None:
    run_async(app(scope, client.receive, client.send))


def assert_413(client: Client) -> None:
    assert client.status() == 413
    start = next(m for m in client.sent if m["type"] == "http.response.start")
    assert (b"content-type", b"application/json") in start["headers"]
    body = json.loads(client.body())
    assert body["code"] == "FILE_TOO_LARGE"
    assert "1 MB" in body["error"]


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    client = Client([b"x" * (2 * MB)])
    run(BodyLimit(inner), http_scope([(b"content-length", str(2 * MB).encode())]), client)
    assert_413(client)
    assert client.receive_calls == 0
    assert inner.called is False


def test_a_chunked_body_growing_past_the_limit_is_cut_off_with_413(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    chunk = b"y" * (256 * 1024)
    client = Client([chunk] * 10)  # 2.5 MB, no content-length
    run(BodyLimit(inner), http_scope([(b"transfer-encoding", b"chunked")]), client)
    assert_413(client)
    # The fifth chunk crosses 1 MB: the app sees four chunks and then a disconnect,
    # and the remaining chunks are never read.
    assert client.receive_calls == 5
    assert [m["type"] for m in inner.received] == ["http.request"] * 4 + ["http.disconnect"]
    assert sum(len(m.get("body", b"")) for m in inner.received) == MB


def test_a_body_longer_than_its_declared_length_is_cut_off_too(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    client = Client([b"z" * MB, b"z" * MB])
    run(BodyLimit(inner), http_scope([(b"content-length", b"100")]), client)
    assert_413(client)
    assert inner.received[-1]["type"] == "http.disconnect"


@pytest.mark.parametrize("declared", ["\u00b2", "12 ", "-5", "1e9", "0x10"])
def test_a_malformed_content_length_does_not_crash_the_wrapper(settings, declared):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    client = Client([b"small"])
    run(BodyLimit(inner), http_scope([(b"content-length", declared.encode("latin-1"))]), client)
    assert client.status() == 200  # falls back to counting the bytes that arrive
    assert client.body() == b"got 5"


def test_a_body_under_the_limit_passes_through_untouched(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    chunks = [b"a" * 1000, b"b" * 2000, b"c" * 3000]
    client = Client(list(chunks))
    expected = [dict(m) for m in client.messages]
    scope = http_scope([(b"content-length", b"6000")])
    run(BodyLimit(inner), scope, client)
    assert inner.called is True
    assert inner.received == expected
    assert client.status() == 200
    assert client.body() == b"got 6000"


def test_a_body_of_exactly_the_limit_is_accepted(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp()
    client = Client([b"q" * (MB // 2), b"q" * (MB // 2)])
    run(BodyLimit(inner), http_scope([(b"content-length", str(MB).encode())]), client)
    assert client.status() == 200
    assert client.body() == f"got {MB}".encode()


def test_no_second_response_is_started_when_the_app_already_answered(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    inner = RecordingApp(respond_first=True)
    client = Client([b"w" * MB, b"w" * MB])
    run(BodyLimit(inner), http_scope([]), client)
    assert client.status() == 200  # exactly one http.response.start was sent
    assert b"FILE_TOO_LARGE" not in client.body()


def test_non_http_scopes_pass_straight_through(settings):
    settings.MAX_UPLOAD_SIZE_MB = 1
    seen: list[str] = []

    async def lifespan_app(scope: Message, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    client = Client([])
    run_async(BodyLimit(lifespan_app)({"type": "lifespan"}, client.receive, client.send))
    assert seen == ["lifespan"]
    assert client.sent == []


def test_the_real_asgi_application_refuses_an_oversized_chunked_upload(settings):
    from config.asgi import application

    settings.MAX_UPLOAD_SIZE_MB = 1
    client = Client([b"v" * (512 * 1024)] * 4)
    run(application, http_scope([(b"content-type", b"application/octet-stream")]), client)
    assert_413(client)
    assert client.receive_calls == 3


# --- rate limiting -----------------------------------------------------------------------


def assert_rate_limited(response: Any) -> None:
    body = assert_error(response, 429, "RATE_LIMITED", extra={"retryAfter"})
    assert set(body) == {"error", "code", "retryAfter"}
    # Up to two windows: this one's requests fade out over the next (a sliding window).
    assert isinstance(body["retryAfter"], int) and 1 <= body["retryAfter"] <= 120
    assert 0 <= int(response["Retry-After"]) <= 120


@pytest.fixture
def three_per_minute(settings: Any) -> None:
    settings.RATE_LIMIT_PER_MIN = 3


def test_the_fourth_request_in_a_minute_is_rate_limited(three_per_minute, user_client):
    for _ in range(3):
        assert user_client.get("/api/v1/teams").status_code == 200
    assert_rate_limited(user_client.get("/api/v1/teams"))


def test_the_limit_counts_requests_to_every_endpoint(three_per_minute, user_client):
    assert user_client.get("/api/v1/teams").status_code == 200
    assert user_client.get("/api/v1/settings").status_code == 200
    assert user_client.get("/api/v1/settings/customLogo").status_code == 200
    assert_rate_limited(user_client.get("/api/v1/teams"))


def test_the_limit_is_per_user(
    three_per_minute, user_client, other_user, session_token, client_for
):
    for _ in range(3):
        user_client.get("/api/v1/teams")
    assert_rate_limited(user_client.get("/api/v1/teams"))
    other = client_for(session_token(other_user))
    assert other.get("/api/v1/teams").status_code == 200


def test_the_limit_is_per_user_across_sessions(three_per_minute, user, session_token, client_for):
    first, second = client_for(session_token(user)), client_for(session_token(user))
    for _ in range(3):
        assert first.get("/api/v1/teams").status_code == 200
    assert_rate_limited(second.get("/api/v1/teams"))


def test_the_limit_is_per_api_key(three_per_minute, user, api_key_for, client_for):
    key_a, key_b = client_for(api_key_for(user)), client_for(api_key_for(user))
    for _ in range(3):
        assert key_a.get("/api/v1/teams").status_code == 200
    assert_rate_limited(key_a.get("/api/v1/teams"))
    assert key_b.get("/api/v1/teams").status_code == 200


def test_anonymous_callers_are_limited_per_ip(three_per_minute, anon, db):
    for _ in range(3):
        assert anon.get("/api/v1/branding/logo", REMOTE_ADDR="10.0.0.1").status_code == 404
    assert_rate_limited(anon.get("/api/v1/branding/logo", REMOTE_ADDR="10.0.0.1"))
    assert anon.get("/api/v1/branding/logo", REMOTE_ADDR="10.0.0.2").status_code == 404


def test_a_forged_forwarded_for_header_does_not_reset_the_anonymous_limit(
    three_per_minute, anon, db
):
    for n in range(3):
        response = anon.get(
            "/api/v1/branding/logo", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"1.2.3.{n}"
        )
        assert response.status_code == 404
    forged = anon.get(
        "/api/v1/branding/logo", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="9.9.9.9"
    )
    assert_rate_limited(forged)


def test_a_zero_limit_disables_rate_limiting(settings, user_client):
    settings.RATE_LIMIT_PER_MIN = 0
    for _ in range(15):
        assert user_client.get("/api/v1/teams").status_code == 200


def test_raising_the_limit_applies_without_restart(settings, user_client):
    settings.RATE_LIMIT_PER_MIN = 2
    for _ in range(2):
        assert user_client.get("/api/v1/teams").status_code == 200
    assert_rate_limited(user_client.get("/api/v1/teams"))
    settings.RATE_LIMIT_PER_MIN = 5
    assert user_client.get("/api/v1/teams").status_code == 200


def test_retry_after_never_tells_a_client_to_retry_before_a_request_fits(
    settings, user_client, monkeypatch
):
    """Retry-After is rounded up to the moment a request fits again, never before it."""
    from apps.core.throttling import ApiRateThrottle

    settings.RATE_LIMIT_PER_MIN = 2
    clock = [1000.0]  # 40 s into a minute window
    monkeypatch.setattr(ApiRateThrottle, "timer", staticmethod(lambda: clock[0]))
    assert user_client.get("/api/v1/teams").status_code == 200
    assert user_client.get("/api/v1/teams").status_code == 200
    response = user_client.get("/api/v1/teams")
    assert_rate_limited(response)
    # The next window starts in 20 s; its request fits once this window's two weigh <= 1,
    # halfway into it: 50 s from now.
    assert response["Retry-After"] == "50"
    clock[0] = 1049.0
    assert_rate_limited(user_client.get("/api/v1/teams"))
    clock[0] = 1050.2
    assert user_client.get("/api/v1/teams").status_code == 200


def test_retry_after_rounds_up(settings, user_client, monkeypatch):
    from apps.core.throttling import ApiRateThrottle

    settings.RATE_LIMIT_PER_MIN = 2
    clock = [1000.3]
    monkeypatch.setattr(ApiRateThrottle, "timer", staticmethod(lambda: clock[0]))
    user_client.get("/api/v1/teams")
    user_client.get("/api/v1/teams")
    response = user_client.get("/api/v1/teams")
    assert response["Retry-After"] == "50"  # 49.7 s: rounding down would be too early
    assert response.json()["retryAfter"] == 50


def test_an_oversized_form_field_is_a_json_413(user_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    photo = SimpleUploadedFile("photo.jpg", (FIXTURES / "photo.jpg").read_bytes())
    response = user_client.post(
        "/api/v1/tools/resize",
        {"file": photo, "settings": json.dumps({"width": 100, "pad": "x" * 5000})},
        format="multipart",
    )
    assert_error(response, 413, "FILE_TOO_LARGE")
    assert not Job.objects.exists()


def test_too_many_files_in_one_request_is_a_json_400(user_client, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    data = (FIXTURES / "photo.jpg").read_bytes()
    files = [SimpleUploadedFile(f"p{i}.jpg", data) for i in range(3)]
    response = user_client.post("/api/v1/tools/resize", {"file": files}, format="multipart")
    assert_error(response, 400, "TOO_MANY_FILES")
    assert not Job.objects.exists()


def test_parallel_requests_cannot_pass_the_limit_together(settings, user, rf):
    """Fifty requests at once against a limit of ten: exactly ten pass (the count is an
    atomic increment, not a read then a write that parallel requests all see unchanged)."""
    from concurrent.futures import ThreadPoolExecutor
    from types import SimpleNamespace

    from apps.core.throttling import ApiRateThrottle

    settings.RATE_LIMIT_PER_MIN = 10
    request = SimpleNamespace(auth=None, user=user)
    with ThreadPoolExecutor(max_workers=16) as pool:
        allowed = list(
            pool.map(lambda _: ApiRateThrottle().allow_request(request, None), range(50))
        )

    assert allowed.count(True) == 10
