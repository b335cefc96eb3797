"""URL map: each app's routes, mounted here. Every API route answers JSON, unknown
routes included (handler404)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.system.views import MetricsView
from apps.toolsapi import llms

# The apps whose urls.py holds /api/v1/ routes, in the order they are listed in the spec.
# Most requests first: Django tries the apps in this order, and each app a request passes
# costs it a failed match (the tool calls' path was 10th: 3 % of their CPU, issue 14).
V1_APPS = (
    "toolsapi",
    "jobs",
    "library",
    "core",
    "apikeys",
    "teams",
    "siteconfig",
    "branding",
    "models",
    "pipelines",
    "system",
    "webhooks",
)

urlpatterns = [
    path("api/auth/", include("apps.accounts.urls")),
    *(path("api/v1/", include(f"apps.{app}.urls")) for app in V1_APPS),
    path("api/v1/openapi.yaml", SpectacularAPIView.as_view(), name="openapi"),
    # The split view serves its init script as a file: the page needs no inline script (CSP).
    path("api/docs", SpectacularSwaggerSplitView.as_view(url_name="openapi"), name="docs"),
    path("llms.txt", llms.llms_txt),
    path("llms-full.txt", llms.llms_full_txt),
    path("metrics", MetricsView.as_view()),  # Prometheus; not JSON, so not under /api/
    path("", include("apps.compat.urls")),  # other services' APIs, where their clients look
    path("", include("apps.web.urls")),  # the browser UI: last, after every API route
]

handler400 = "apps.core.errors.json_400"
handler403 = "apps.core.errors.json_403"
handler404 = "apps.web.errors.not_found"  # JSON, or a page for browsers
handler500 = "apps.core.errors.json_500"
