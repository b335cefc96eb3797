"""Routes of the settings and administration pages (included by apps/web/urls.py)."""

from django.urls import URLPattern, path

from apps.web import admin_pages

urlpatterns: list[URLPattern] = [
    path("settings", admin_pages.settings_page, name="settings"),
    path("admin", admin_pages.overview, name="admin"),
    path("admin/users", admin_pages.users, name="admin-users"),
    path("admin/teams", admin_pages.teams, name="admin-teams"),
    path("admin/settings", admin_pages.runtime_settings, name="admin-settings"),
    path("admin/branding", admin_pages.branding, name="admin-branding"),
    path("admin/models", admin_pages.models, name="admin-models"),
    path("admin/system", admin_pages.system, name="admin-system"),
]
