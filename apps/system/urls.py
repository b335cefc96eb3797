"""/api/v1/system/*, and the model actions that run as jobs (the top-level /metrics is
mounted in config/urls.py)."""

from django.urls import path

from apps.system import model_jobs, views

urlpatterns = [
    path("system/benchmark", model_jobs.BenchmarkView.as_view()),
    path("models/<str:model_id>/download", model_jobs.ModelDownloadView.as_view()),
    path("models/<str:model_id>/load", model_jobs.ModelLoadView.as_view()),
    path("system/hardware", views.HardwareView.as_view()),
    path("system/features", views.FeaturesView.as_view()),
    path("system/doctor", views.DoctorView.as_view()),
]
