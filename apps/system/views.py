"""/api/v1/system/{hardware,features,doctor} and the top-level /metrics."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.authentication import BaseAuthentication
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import SessionTokenAuthentication
from apps.apikeys.authentication import ApiKeyAuthentication
from apps.core.permissions import CanUseTools, IsAdmin, is_admin
from apps.core.tokens import bearer_token
from apps.system import doctor, metrics
from apps.system.features import features, hardware


class HardwareView(APIView):
    """GET: CPU, memory, GPUs, and the execution providers onnxruntime offers here.

    Whoever may use the tools may read it (as /models): it tells what to expect of them.
    """

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="system_hardware", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(hardware())


class FeaturesView(APIView):
    """GET: for each AI tool the catalog names, whether this server can run it, and what
    is missing (models, engines) with the commands that fix it."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="system_features", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"tools": features(settings.MODELS_DIR)})


class DoctorView(APIView):
    """GET (admins): database, broker, workers, disk, models, libvips and engines checked,
    each "ok", "warn" or "fail" with what to do; `status` is the worst of them."""

    permission_classes = [IsAdmin]

    @extend_schema(operation_id="system_doctor", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response(doctor.run_checks())


# --- /metrics ------------------------------------------------------------------------------


class MetricsScraper:
    """`request.auth` of a caller that presented METRICS_TOKEN: it may read /metrics only."""

    is_api_key = False  # the rate limiter's question: count it by IP address


SCRAPER = MetricsScraper()


class MetricsTokenAuthentication(BaseAuthentication):
    """`Authorization: Bearer <METRICS_TOKEN>`. Any other bearer token is left to the usual
    classes (an admin's session or API key), which refuse an unknown one with 401."""

    def authenticate(self, request: Request) -> tuple[AnonymousUser, MetricsScraper] | None:
        expected = settings.METRICS_TOKEN
        token = bearer_token(request)
        if not expected or token is None:
            return None
        if not hmac.compare_digest(token.encode(), expected.encode()):
            return None
        return AnonymousUser(), SCRAPER

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="pixelsmith"'  # so an anonymous scrape is 401, not 403


class CanScrape(BasePermission):
    """The METRICS_TOKEN bearer, or an admin."""

    message = "Admin role (or METRICS_TOKEN) required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.auth is SCRAPER or is_admin(request)


class AnyAccept(BaseContentNegotiation):
    """Prometheus asks for OpenMetrics or text/plain: the body is text whatever it asks,
    and errors are the usual JSON (never a 406)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        return next(iter(parsers), None)

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> tuple[BaseRenderer, str]:
        renderer = next(iter(renderers))  # JSONRenderer: for errors; the text is not rendered
        return renderer, renderer.media_type


class MetricsView(APIView):
    """GET /metrics: Prometheus text format (see apps/system/metrics.py)."""

    # The token first: any other bearer token then goes to the usual classes.
    authentication_classes = [
        MetricsTokenAuthentication,
        ApiKeyAuthentication,
        SessionTokenAuthentication,
    ]
    permission_classes = [CanScrape]
    content_negotiation_class = AnyAccept
    # The usual rate limit stays: a scrape every 15 s is far below it, and it slows
    # anyone guessing the token.

    @extend_schema(exclude=True)  # not part of the JSON API; documented in README
    def get(self, request: Request) -> Any:
        return HttpResponse(metrics.render(), content_type=metrics.CONTENT_TYPE)
