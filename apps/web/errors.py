"""404 for the whole site: JSON for API clients (as every API error), the UI's own page
for a browser that asked for a page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.core.errors import json_404


def wants_page(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return not request.path.startswith("/api/") and "text/html" in accept


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if wants_page(request):
        return render(request, "web/not_found.html", status=404)
    return json_404(request, exception)
