from django.apps import AppConfig


class CompatConfig(AppConfig):
    """Drop-in APIs of other image services (a small upscale service, the Jellyfin AI
    service, SeedVR2, Automatic1111's extras, rembg's server): thin adapters over the
    submission service and jobs, with the same auth and limits as /api/v1/tools."""

    name = "apps.compat"
    label = "compat"
