"""/api/v1/jobs/* and /api/v1/queue/*."""

from django.urls import path

from apps.jobs import sse, views

urlpatterns = [
    path("jobs", views.JobListView.as_view()),
    path("jobs/<uuid:job_id>", views.JobDetailView.as_view()),
    path("jobs/<uuid:job_id>/download", views.JobDownloadView.as_view()),
    path("jobs/<uuid:job_id>/cancel", views.JobCancelView.as_view()),
    path("jobs/<uuid:job_id>/progress", sse.progress),
    path("uploads", views.StagedUploadView.as_view()),
    path("queue/status", views.QueueStatusView.as_view()),
    path("queue/history", views.QueueHistoryView.as_view()),
]
