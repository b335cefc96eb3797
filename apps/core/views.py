"""Health check."""

import time

from django.conf import settings
from django.db import connection
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import DATABASE_BUSY_RETRY_AFTER_S, database_busy


class HealthView(APIView):
    """Public liveness + database check: {"status": "ok", "version": …, "time": <unix s>}
    (the small upscale service's health shape: its clients read this endpoint).

    503 with "database": "down" when the database cannot be reached, or "busy" (and
    Retry-After) when every pooled connection stayed in use for DB_POOL_TIMEOUT_S.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # monitors poll it; it must never answer 429

    @extend_schema(operation_id="health", responses={200: dict, 503: dict})
    def get(self, request: Request) -> Response:
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
        except Exception as exc:
            busy = database_busy(exc)
            body = {
                "status": "error",
                "version": settings.VERSION,
                "database": "busy" if busy else "down",
            }
            response = Response(body, status=503)
            if busy:
                response["Retry-After"] = str(DATABASE_BUSY_RETRY_AFTER_S)
            return response
        return Response({"status": "ok", "version": settings.VERSION, "time": int(time.time())})
