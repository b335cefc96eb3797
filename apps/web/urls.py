"""The browser UI's pages. Everything they do goes through /api/v1 (session + CSRF)."""

from django.urls import include, path

from apps.web import account, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login", account.login, name="login"),
    path("logout", account.logout, name="logout"),
    path("password", account.password, name="password"),
    path("tools/<slug:tool_id>", views.tool_page, name="tool"),
    path("", include("apps.web.library_urls")),
    path("", include("apps.web.jobs_urls")),
    path("", include("apps.web.admin_urls")),
    path("", include("apps.web.pipeline_urls")),
]
