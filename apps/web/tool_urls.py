"""Routes of one area of the browser UI (included by apps/web/urls.py)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
