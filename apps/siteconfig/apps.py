from django.apps import AppConfig


class SiteconfigConfig(AppConfig):
    name = "apps.siteconfig"
    label = "siteconfig"
    default_auto_field = "django.db.models.BigAutoField"
