"""/api/v1/branding/logo: upload (admin, ≤ 500 KB → 128×128 PNG), serve (public), remove."""

import os
import tempfile
from pathlib import Path

import pyvips
from django.conf import settings
from django.http import FileResponse
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import IsAdmin
from apps.core.uploads import first_upload, upload_to_path
from apps.siteconfig.registry import set_setting
from tools import imaging
from tools.base import ToolError

LOGO_SIZE = 128


def logo_path() -> Path:
    return settings.DATA_DIR / "branding" / "logo.png"


def render_logo(source_path: Path, name: str, target: Path) -> None:
    """Fit the image inside 128×128, centred on a transparent square, as PNG."""
    source = imaging.open_source(source_path, name)
    image = imaging.load(source, settings.MAX_MEGAPIXELS)
    image = image.colourspace("srgb") if image.interpretation != "srgb" else image
    if not image.hasalpha():
        image = image.bandjoin(255)
    image = image.thumbnail_image(LOGO_SIZE, height=LOGO_SIZE)
    image = image.gravity(
        "centre", LOGO_SIZE, LOGO_SIZE, extend="background", background=[0, 0, 0, 0]
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target then rename: a reader never sees half a logo.
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".png")
    os.close(fd)
    try:
        image.pngsave(tmp, strip=True)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


class LogoView(APIView):
    def is_read(self) -> bool:
        request = getattr(self, "request", None)  # None while the OpenAPI schema is built
        return request is not None and request.method in ("GET", "HEAD")

    def get_permissions(self) -> list:
        return [AllowAny()] if self.is_read() else [IsAdmin()]

    def get_authenticators(self) -> list:
        # Public GET: a stale token in the browser must not turn a logo into a 401.
        return [] if self.is_read() else super().get_authenticators()

    @extend_schema(responses={(200, "image/png"): bytes})
    def get(self, request: Request) -> FileResponse:
        path = logo_path()
        if not path.exists():
            raise ApiError(404, "NOT_FOUND", "No custom logo set")
        return FileResponse(path.open("rb"), content_type="image/png")

    @extend_schema(request={"multipart/form-data": dict}, responses={200: dict})
    def post(self, request: Request) -> Response:
        upload = first_upload(request, ("file", "logo"))
        if (upload.size or 0) > settings.LOGO_MAX_KB * 1024:
            raise ApiError(
                413, "FILE_TOO_LARGE", f"Logo must be {settings.LOGO_MAX_KB} KB or smaller"
            )
        with upload_to_path(upload) as path:
            try:
                render_logo(path, upload.name or "logo", logo_path())
            except pyvips.Error:
                raise ApiError(422, "CORRUPT_IMAGE", "The logo could not be decoded") from None
            except ToolError as exc:
                raise ApiError(exc.status, exc.code, exc.message) from None
        set_setting("customLogo", True)
        return Response({"ok": True, "width": LOGO_SIZE, "height": LOGO_SIZE})

    @extend_schema(responses={200: dict})
    def delete(self, request: Request) -> Response:
        logo_path().unlink(missing_ok=True)
        set_setting("customLogo", False)
        return Response({"ok": True})
