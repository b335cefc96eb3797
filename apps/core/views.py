"""Health check."""

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class HealthView(APIView):
    """Public liveness + database check: {"status": "ok", "version": …}."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # monitors poll it; it must never answer 429

    @extend_schema(operation_id="health", responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception:
            body = {"status": "error", "version": settings.VERSION, "database": "down"}
            return Response(body, status=503)
        return Response({"status": "ok", "version": settings.VERSION})
