from django.apps import AppConfig


class ToolsapiConfig(AppConfig):
    name = "apps.toolsapi"
    label = "toolsapi"
    default_auto_field = "django.db.models.BigAutoField"
