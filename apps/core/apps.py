from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from apps.core import schema  # noqa: F401  (registers OpenAPI extensions)
        from tools import imaging, svg_render
        from tools.video import limits as video_limits

        # Same libvips threading and cache limits in web processes and workers.
        svg_limits = svg_render.Limits(
            timeout_s=settings.SVG_RENDER_TIMEOUT_S, memory_mb=settings.SVG_RENDER_MEMORY_MB
        )
        imaging.configure(settings.VIPS_CONCURRENCY, svg_limits=svg_limits)
        video_limits.configure(
            max_seconds=settings.MAX_VIDEO_SECONDS,
            max_pixels=settings.MAX_VIDEO_PIXELS,
            max_upload_mb=settings.MAX_UPLOAD_SIZE_MB,
            segment_seconds=settings.VIDEO_SEGMENT_SECONDS,
        )
