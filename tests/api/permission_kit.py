"""The permission table's parts: the World the rows act on and the Row itself.

Core rows live in test_permissions.py; each further surface (the compatibility APIs,
webhooks) keeps its rows in a `permission_rows_<surface>.py` module next to it, with a
`ROWS` dict and, when its rows need objects of their own, `prepare(world)` returning the
extra ids their paths name (as `{name}`).
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from apps.accounts.models import User
from apps.apikeys.models import ApiKey
from apps.jobs.models import Job
from apps.library.models import StoredFile
from apps.pipelines.models import Pipeline
from apps.teams.models import Team

FIXTURES = Path(__file__).parent.parent / "fixtures"
ACTORS = ["anonymous", "user_session", "admin_session", "user_key", "admin_key"]
STRONG = "plenty-strong-passphrase-7"


def assert_error_shape(response) -> None:
    """Every error is exactly {"error": str, "code": str}."""
    body = response.json()
    assert set(body) == {"error", "code"}, body
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["code"], str) and body["code"]


@dataclass
class World:
    """What the rows act on: bob (a plain user), a spare team, and bob's key, jobs, pipeline
    and library file."""

    bob: User
    spare: Team
    bob_key: ApiKey
    bob_job: Job  # completed, its result on disk
    bob_queued: Job
    bob_pipeline: Pipeline
    bob_file: StoredFile
    clients: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # ids from the row modules' prepare()

    def ids(self) -> dict[str, Any]:
        return {
            "bob": self.bob.id,
            "spare": self.spare.id,
            "bob_key": self.bob_key.id,
            "bob_job": self.bob_job.id,
            "bob_queued": self.bob_queued.id,
            "bob_pipeline": self.bob_pipeline.id,
            "bob_file": self.bob_file.id,
            **self.extra,
        }


STEPS = [{"toolId": "resize", "settings": {"width": 16}}]


def photos(field: str, count: int) -> dict[str, Any]:
    """A multipart body with `count` photos under `field` (and the pipeline steps)."""
    data = (FIXTURES / "photo.jpg").read_bytes()
    files = [SimpleUploadedFile(f"p{i}.jpg", data, "image/jpeg") for i in range(count)]
    return {
        field: files if count > 1 else files[0],
        "settings": json.dumps(STEPS[0]["settings"]),
        "pipeline": json.dumps(STEPS),
    }


def logo_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("logo.jpg", (FIXTURES / "photo.jpg").read_bytes(), "image/jpeg")


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # formatted with the World's ids: {bob}, {spare}, {bob_key}, {bob_job}, …
    expected: tuple[int, int, int, int, int]  # in ACTORS order
    body: Callable[[], Any] | None = None
    multipart: bool = False
    # The route as urls.py writes it, where replacing the ids in `path` does not give it
    # (a regex route, an id parameter of another name).
    route: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def send(self, client, world: World):
        ids = world.ids()
        url = self.path.format(**ids)
        data = self.body() if self.body else None
        if isinstance(data, dict) and not self.multipart:  # ids in a JSON body, as in paths
            text = json.dumps(data)
            for name, value in ids.items():
                text = text.replace("{" + name + "}", str(value))
            data = json.loads(text)
        fmt = "multipart" if self.multipart else "json"
        return getattr(client, self.method.lower())(url, data, format=fmt, headers=self.headers)


OPEN = (200, 200, 200, 200, 200)
AUTH = (401, 200, 200, 200, 200)
ADMIN = (401, 403, 200, 403, 200)
