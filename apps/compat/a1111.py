"""Automatic1111's web UI API, its upscaling side: /sdapi/v1/upscalers, extra-single-image,
extra-batch-images, progress, interrupt and face-restorers, each with and without a
trailing slash (openOutpaint posts to `extra-single-image/`).

Its clients (the `webuiapi` package, openOutpaint, SillyTavern, ...) work unmodified: a
credential is a bearer API key or session, or HTTP Basic whose password is an API key
(`--api-auth user:si_...`; anonymous is 401 with `WWW-Authenticate: Basic`). Every image
runs as jobs of our tools through the submission service (apps.compat.a1111_extras), so
the same auth, limits, queue and progress apply as for /api/v1/tools.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.urls import URLPattern, URLResolver, re_path
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.compat import a1111_progress, a1111_upscalers
from apps.compat.a1111_extras import Geometry, Outcome, Plan, run_extras
from apps.compat.a1111_requests import (
    EXTRAS_ERRORS,
    BatchImagesRequest,
    BatchImagesResponse,
    FaceRestorerList,
    FileData,
    InterruptResponse,
    ProgressResponse,
    SingleImageRequest,
    SingleImageResponse,
    UpscalerList,
    parse,
)
from apps.compat.authentication import WITH_BASIC
from apps.compat.common import to_base64
from apps.compat.error_responses import error_responses
from apps.compat.parsers import LargeJSONParser
from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools
from apps.core.uploads import upload_from_base64, upload_to_path
from apps.jobs.responses import with_job_headers
from tools import imaging

TAG = "A1111"
NEEDS_AUTH = error_responses((401, "No or a wrong credential (WWW-Authenticate: Basic)"))


class A1111View(APIView):
    """What every /sdapi/v1 route shares: Basic or bearer credentials, any user."""

    authentication_classes = WITH_BASIC
    permission_classes = [CanUseTools]
    parser_classes = [LargeJSONParser, MultiPartParser, FormParser]


class UpscalersView(A1111View):
    """GET: every upscaler name this server takes (A1111's UpscalerItem list)."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_upscalers",
        responses={200: UpscalerList, **NEEDS_AUTH},
    )
    def get(self, request: Request) -> Response:
        return Response(a1111_upscalers.upscaler_items())


class FaceRestorersView(A1111View):
    """GET: GFPGAN and CodeFormer, with the model each maps to and whether it is installed."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_face_restorers",
        responses={200: FaceRestorerList, **NEEDS_AUTH},
    )
    def get(self, request: Request) -> Response:
        return Response(a1111_upscalers.face_restorer_items())


class SingleImageView(A1111View):
    """POST: one image through A1111's extras (upscale, blend, face restore)."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_extra_single_image",
        request=SingleImageRequest,
        responses={200: SingleImageResponse, **EXTRAS_ERRORS},
    )
    def post(self, request: Request) -> Response:
        extras = parse(SingleImageRequest, form_or_json(request))
        plan = Plan.of(extras)  # unknown upscalers, missing face models: before any work
        data = image_bytes(request.FILES.get("image") or extras.image, "image")
        outcome = run_extras(request.user, data, plan.shape(image_size(data, "image")), plan)
        body = {"image": to_base64(outcome.data), "html_info": outcome.html_info}
        return with_job_headers(Response(body), outcome.made_by or outcome.jobs[-1])


class BatchImagesView(A1111View):
    """POST: each image of `imageList` through the same extras, one after the other (as
    A1111 does); any bad image fails the request before any work, naming it."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_extra_batch_images",
        request=BatchImagesRequest,
        responses={200: BatchImagesResponse, **EXTRAS_ERRORS},
    )
    def post(self, request: Request) -> Response:
        extras = parse(BatchImagesRequest, form_or_json(request))
        if len(extras.imageList) > settings.MAX_BATCH_SIZE:
            raise ApiError(
                400,
                "TOO_MANY_FILES",
                f"{len(extras.imageList)} images sent; a batch takes at most "
                f"{settings.MAX_BATCH_SIZE}",
            )
        plan = Plan.of(extras)
        images = [prepared(item, index, plan) for index, item in enumerate(extras.imageList)]
        outcomes: list[Outcome] = [run_extras(request.user, d, s, plan) for d, s in images]
        body = {
            "images": [to_base64(o.data) for o in outcomes],
            "html_info": outcomes[-1].html_info if outcomes else "<p></p>",
        }
        response = Response(body)
        last = outcomes[-1].made_by if outcomes else None
        return with_job_headers(response, last) if last else response


class ProgressView(A1111View):
    """GET: the caller's latest running (else queued) job as A1111's ProgressResponse."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_progress",
        responses={200: ProgressResponse, **NEEDS_AUTH},
    )
    def get(self, request: Request) -> Response:
        return Response(a1111_progress.progress_of(request.user))


class InterruptView(A1111View):
    """POST: cancel the caller's own queued and running jobs (never another user's, admins
    included). A1111 answers {}; here `cancelled` counts them."""

    @extend_schema(
        tags=[TAG],
        operation_id="a1111_interrupt",
        request=None,
        responses={200: InterruptResponse, **NEEDS_AUTH},
    )
    def post(self, request: Request) -> Response:
        return Response({"cancelled": a1111_progress.interrupt(request.user)})


def form_or_json(request: Request) -> Any:
    """The body's fields: a JSON object as sent, or a form's (files left out; the seed's
    studio also takes extra-single-image's `image` as a multipart file)."""
    data = request.data
    if hasattr(data, "dict"):
        return {k: v for k, v in data.dict().items() if not isinstance(v, UploadedFile)}
    return data


def prepared(item: FileData, index: int, plan: Plan) -> tuple[bytes, Geometry | None]:
    """A batch image decoded, and its geometry checked; errors name it."""
    where = f"imageList[{index}]" + (f" ({item.name[:64]})" if item.name else "")
    data = image_bytes(item.data, where)
    try:
        return data, plan.shape(image_size(data, where))
    except ApiError as exc:
        raise ApiError(exc.status_code, exc.code, f"{where}: {exc.message}") from None


def image_bytes(value: Any, field: str) -> bytes:
    """An image sent as base64 (with or without `data:`) or as a multipart file. A1111
    can fetch an http(s) URL given instead: here that is 400 URL_NOT_SUPPORTED (a server
    fetching URLs for its callers is an SSRF risk)."""
    if isinstance(value, UploadedFile):
        return value.read()
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        raise ApiError(
            400,
            "URL_NOT_SUPPORTED",
            f"'{field}' is a URL: this server never fetches URLs (SSRF); send the image as base64",
        )
    return upload_from_base64(value, field=field).read()


def image_size(data: bytes, name: str) -> tuple[int, int]:
    """The image's displayed width and height, from its header alone: a non-image is 400
    UNSUPPORTED_FORMAT, one over the pixel limit 413 IMAGE_TOO_LARGE, before any job."""
    with upload_to_path(SimpleUploadedFile(name, data)) as path:
        source = imaging.open_source(path, name)
        return imaging.oriented_size(imaging.probe(source, settings.MAX_MEGAPIXELS))


def slash_optional(name: str) -> str:
    """`name` and `name/` alike; written so the OpenAPI path is A1111's, without the slash."""
    return rf"^{name}(?:/)?$"


urlpatterns: list[URLPattern | URLResolver] = [
    re_path(slash_optional("upscalers"), UpscalersView.as_view()),
    re_path(slash_optional("face-restorers"), FaceRestorersView.as_view()),
    re_path(slash_optional("extra-single-image"), SingleImageView.as_view()),
    re_path(slash_optional("extra-batch-images"), BatchImagesView.as_view()),
    re_path(slash_optional("progress"), ProgressView.as_view()),
    re_path(slash_optional("interrupt"), InterruptView.as_view()),
]
