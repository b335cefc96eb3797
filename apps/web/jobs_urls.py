"""The jobs page, and one job's row (fetched again by the page as the job changes)."""

from django.urls import URLPattern, path

from apps.web import jobs

urlpatterns: list[URLPattern] = [
    path("jobs", jobs.jobs, name="jobs"),
    path("jobs/<str:job_id>/row", jobs.job_row_page, name="job-row"),
]
