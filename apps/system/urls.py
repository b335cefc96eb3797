"""/api/v1/system/* (the top-level /metrics is mounted in config/urls.py)."""

from django.urls import path

from apps.system import views

urlpatterns = [
    path("system/hardware", views.HardwareView.as_view()),
    path("system/features", views.FeaturesView.as_view()),
    path("system/doctor", views.DoctorView.as_view()),
]
