"""Routes of one area of the browser UI (included by apps/web/urls.py): the pipeline builder."""

from django.urls import URLPattern, path

from apps.web import pipelines

urlpatterns: list[URLPattern] = [
    path("pipelines", pipelines.pipelines, name="pipelines"),
]
