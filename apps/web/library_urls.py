"""The library pages: the file grid, one file's page, and "Open in a tool"."""

from django.urls import URLPattern, path

from apps.web import library

urlpatterns: list[URLPattern] = [
    path("library", library.library, name="library"),
    path("library/<str:file_id>", library.library_file, name="library-file"),
    path("library/<str:file_id>/open", library.open_in_tool, name="library-open"),
]
