"""The browser entry page (the full UI lives in later work)."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/index.html", {"version": settings.VERSION})
