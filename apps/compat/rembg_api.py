"""rembg's HTTP server API (`rembg s`, rembg/commands/s_command.py): POST /api/remove with
a multipart `file`, answered with the PNG bytes, run by our `remove-background` tool
through the submission service.

rembg's options, as form fields or query parameters alike (rembg reads `bgc` and
`extras` from the query even on POST):

- `model`: u2netp (shipped), isnet-general-use and birefnet-general (downloads: 503
  MODEL_NOT_INSTALLED until an admin installs them), and our `selfie`
  (mediapipe-selfie-segmenter, shipped). rembg's default `u2net` (the full U²-Net, not
  in our catalog) is served by its small sibling u2netp; X-Model says which ran. Any other
  name is 404 MODEL_NOT_FOUND listing these.
- `a` alpha matting with `af` / `ab` / `ae` (foreground and background thresholds,
  erosion); `om` only the mask (greyscale PNG); `bgc` "r,g,b,a" (or "r,g,b") composes the
  cut-out over that colour.
- `ppm` (post-process the mask) and `extras` (model-specific JSON) are accepted and not
  applied; an `X-Ignored-Options` header names them when sent.

GET /api/remove?url=... is 400 URL_NOT_SUPPORTED: rembg fetches the URL for its caller,
which makes the server an SSRF vector; this server never fetches URLs.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.urls import URLPattern, URLResolver, re_path
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.views import APIView

from apps.compat.authentication import WITH_API_TOKEN, BasicApiKeyAuthentication
from apps.compat.common import result_bytes, submit_tool
from apps.compat.error_responses import error_responses
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import first_upload
from apps.jobs.responses import with_job_headers

TAG = "rembg"
TOOL = "remove-background"
# rembg's model names (and ours) -> remove-background's `model`.
MODELS = {
    "u2net": "u2netp",  # rembg's default; the full U²-Net is not in our catalog
    "u2netp": "u2netp",
    "isnet-general-use": "isnet-general-use",
    "birefnet-general": "birefnet-general",
    "selfie": "selfie",
    "mediapipe-selfie-segmenter": "selfie",
}
DEFAULT_MODEL = "u2net"
TRUE = frozenset({"true", "1", "yes", "on", "t", "y"})
FALSE = frozenset({"false", "0", "no", "off", "f", "n", ""})
IGNORED = ("ppm", "extras")

_FORM = inline_serializer(
    "RembgRemoveForm",
    {
        "file": serializers.FileField(help_text="The image."),
        "model": serializers.CharField(required=False, help_text="Default u2net (u2netp)."),
        "a": serializers.BooleanField(required=False, help_text="Alpha matting."),
        "af": serializers.IntegerField(required=False, help_text="Matting foreground, 240."),
        "ab": serializers.IntegerField(required=False, help_text="Matting background, 10."),
        "ae": serializers.IntegerField(required=False, help_text="Matting erosion, 10."),
        "om": serializers.BooleanField(required=False, help_text="Only the mask."),
        "ppm": serializers.BooleanField(required=False, help_text="Accepted, not applied."),
        "bgc": serializers.CharField(required=False, help_text="Background r,g,b,a."),
    },
)


class RemoveView(APIView):
    """POST: the image's background removed, as PNG bytes; GET (by URL): refused."""

    authentication_classes = [*WITH_API_TOKEN, BasicApiKeyAuthentication]
    permission_classes = [CanUseTools]

    @extend_schema(
        tags=[TAG],
        operation_id="rembg_remove",
        description="The image's background removed (remove-background), as PNG bytes, "
        "with X-Model, X-Engine and X-Device naming what ran.",
        request={"multipart/form-data": _FORM},
        responses={
            (200, "image/png"): bytes,
            **error_responses(
                (400, "No file, not an image, or a bad option (VALIDATION_ERROR)"),
                (401, "No or a wrong credential"),
                (404, "MODEL_NOT_FOUND: the message lists the models there are"),
                (503, "MODEL_NOT_INSTALLED: a download an admin has not installed"),
            ),
        },
    )
    def post(self, request: Request) -> HttpResponse:
        upload = first_upload(request, ("file",))
        options = _options(request)
        job = submit_tool(request.user, TOOL, tool_settings(options), [upload])
        response = HttpResponse(result_bytes(job), content_type="image/png")
        ignored = [name for name in IGNORED if options.get(name) not in (None, "")]
        if ignored:
            response["X-Ignored-Options"] = ", ".join(ignored)
        return with_job_headers(response, job)

    @extend_schema(
        tags=[TAG],
        operation_id="rembg_remove_url",
        description="rembg fetches `url` for its caller (an SSRF risk): refused, always.",
        parameters=[OpenApiParameter("url", str, description="Refused: 400 URL_NOT_SUPPORTED")],
        responses=error_responses((400, "URL_NOT_SUPPORTED"), (401, "No or a wrong credential")),
    )
    def get(self, request: Request) -> HttpResponse:
        raise ApiError(
            400,
            "URL_NOT_SUPPORTED",
            "This server never fetches URLs for its callers (a server-side request forgery "
            "risk): POST the image as the multipart field 'file' instead",
        )


def _options(request: Request) -> dict[str, Any]:
    """rembg's options: the form's fields over the query's (rembg reads some from each)."""
    options: dict[str, Any] = dict(request.query_params.items())
    data = request.data
    if hasattr(data, "items"):
        options.update((k, v) for k, v in data.items() if isinstance(v, str))
    return options


def tool_settings(options: dict[str, Any]) -> dict[str, Any]:
    """remove-background's settings for rembg's options (PNG out, as rembg answers)."""
    settings: dict[str, Any] = {"model": model_for(options.get("model")), "format": "png"}
    if flag(options, "a"):
        settings["alphaMatting"] = True
        for field, key in (("af", "alphaMattingForeground"), ("ab", "alphaMattingBackground")):
            if options.get(field) not in (None, ""):
                settings[key] = number(options, field)
        if options.get("ae") not in (None, ""):
            settings["alphaMattingErodeSize"] = number(options, "ae")
    if flag(options, "om"):
        settings["returnMask"] = True  # rembg ignores bgc with om
    elif options.get("bgc") not in (None, ""):
        settings["background"] = "color"
        settings["backgroundColor"] = colour(str(options["bgc"]))
    return settings


def model_for(name: Any) -> str:
    """remove-background's model for a rembg model name; 404 MODEL_NOT_FOUND otherwise."""
    wanted = str(name or DEFAULT_MODEL).strip()
    if wanted in MODELS:
        return MODELS[wanted]
    known = ", ".join(MODELS)
    raise ApiError(
        404, "MODEL_NOT_FOUND", f"Unknown model: {wanted[:64]!r}; this server has: {known}"
    )


def flag(options: dict[str, Any], name: str) -> bool:
    """A rembg boolean ("true", "1", "on", ...); 400 VALIDATION_ERROR otherwise."""
    value = str(options.get(name, "")).strip().lower()
    if value in TRUE or value in FALSE:
        return value in TRUE
    raise ApiError(400, "VALIDATION_ERROR", f"{name}: not a boolean: {value[:32]!r}")


def number(options: dict[str, Any], name: str) -> int:
    try:
        return int(str(options[name]).strip())
    except ValueError:
        raise ApiError(400, "VALIDATION_ERROR", f"{name}: not an integer") from None


def colour(value: str) -> str:
    """rembg's `bgc` "r,g,b,a" (0..255 each; "r,g,b" is opaque) as #rrggbbaa."""
    try:
        parts = [int(p.strip()) for p in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 3:
        parts.append(255)
    if len(parts) != 4 or not all(0 <= p <= 255 for p in parts):
        raise ApiError(400, "VALIDATION_ERROR", "bgc: four integers 0..255, 'r,g,b,a'")
    return "#" + "".join(f"{p:02x}" for p in parts)


urlpatterns: list[URLPattern | URLResolver] = [
    re_path(r"^remove(?:/)?$", RemoveView.as_view()),
]
