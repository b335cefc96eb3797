"""/api/v1/tools/*."""

from django.urls import path

from apps.toolsapi import views

urlpatterns = [
    path("tools", views.ToolListView.as_view()),
    path("tools/<slug:tool_id>/batch", views.BatchView.as_view()),
    path("tools/<slug:tool_id>", views.ToolView.as_view()),
]
