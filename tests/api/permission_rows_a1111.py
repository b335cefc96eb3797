"""Permission-table rows of Automatic1111's /sdapi/v1 routes and rembg's /api/remove (see
tests/api/permission_kit.py). Every route answers any signed-in caller (a session or an
API key) and refuses anonymous ones; upscaling runs with "Lanczos" (no model needed)
and rembg with the shipped u2netp, linked into the test's MODELS_DIR by `prepare`."""

import base64
from typing import Any

import pyvips
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.api.permission_kit import AUTH, FIXTURES, Row, World
from tests.shipped_models import shipped_models_dir


def _png() -> bytes:
    return bytes(
        pyvips.Image.new_from_file(str(FIXTURES / "photo.jpg")).crop(0, 0, 16, 12).pngsave_buffer()
    )


def _extras() -> dict[str, Any]:
    return {"upscaler_1": "Lanczos", "upscaling_resize": 2}


def _single() -> dict[str, Any]:
    return {**_extras(), "image": "data:image/png;base64," + base64.b64encode(_png()).decode()}


def _batch() -> dict[str, Any]:
    return {**_extras(), "imageList": [{"data": base64.b64encode(_png()).decode(), "name": "a"}]}


def _route(name: str) -> str:
    return f"/sdapi/v1/^{name}(?:/)?$"


REMOVE_ROUTE = "/api/^remove(?:/)?$"

ROWS: dict[str, Row] = {
    "a1111-upscalers": Row("GET", "/sdapi/v1/upscalers", AUTH, route=_route("upscalers")),
    "a1111-face-restorers": Row(
        "GET", "/sdapi/v1/face-restorers/", AUTH, route=_route("face-restorers")
    ),
    "a1111-extra-single-image": Row(
        "POST", "/sdapi/v1/extra-single-image", AUTH, _single, route=_route("extra-single-image")
    ),
    "a1111-extra-batch-images": Row(
        "POST", "/sdapi/v1/extra-batch-images", AUTH, _batch, route=_route("extra-batch-images")
    ),
    "a1111-progress": Row("GET", "/sdapi/v1/progress", AUTH, route=_route("progress")),
    "a1111-interrupt": Row("POST", "/sdapi/v1/interrupt", AUTH, route=_route("interrupt")),
    "rembg-remove": Row(
        "POST",
        "/api/remove",
        AUTH,
        lambda: {"file": SimpleUploadedFile("in.png", _png(), "image/png")},
        multipart=True,
        route=REMOVE_ROUTE,
    ),
    # rembg fetches ?url= for its caller; this server never fetches URLs
    "rembg-remove-url": Row(
        "GET",
        "/api/remove?url=http://169.254.169.254/latest",
        (401, 400, 400, 400, 400),
        route=REMOVE_ROUTE,
    ),
}


def prepare(world: World) -> dict[str, Any]:
    """The shipped u2netp in this test's (temporary) MODELS_DIR, for rembg's row."""
    target = settings.MODELS_DIR / "u2netp"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to(shipped_models_dir() / "u2netp", target_is_directory=True)
    return {}
