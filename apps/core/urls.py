"""/api/v1/health: the core's only route (each app has its own urls.py; config/urls.py
mounts them all)."""

from django.urls import path

from apps.core import views

urlpatterns = [path("health", views.HealthView.as_view())]
