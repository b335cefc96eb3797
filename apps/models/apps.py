from django.apps import AppConfig


class ModelsConfig(AppConfig):
    """The AI model catalog: what is installed, installing, importing (apps/models)."""

    name = "apps.models"
    label = "models"
    default_auto_field = "django.db.models.BigAutoField"
