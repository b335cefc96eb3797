"""The compatibility APIs, each where its clients look for it (mounted at the root by
config/urls.py, before the browser UI)."""

from django.urls import include, path

from apps.compat import a1111, jellyfin, rembg_api, seedvr2, upscale_service

urlpatterns = [
    # the small upscale service: /api/v1/upscale, /status/<id>, /download/<id>, /cancel/<id>
    # (its /models and /health are ours: the same endpoints answer both)
    path("api/v1/", include(upscale_service.urlpatterns)),
    # the Jellyfin AI service's inference routes
    path("api/v1/ai/", include(jellyfin.urlpatterns)),
    # SeedVR2 (/api/process, /api/status/<id>, /api/queue/*, /api/gpu/*, /api/models*, /health)
    path("", include(seedvr2.urlpatterns)),
    # rembg's server: /api/remove
    path("api/", include(rembg_api.urlpatterns)),
    # Automatic1111: /sdapi/v1/*
    path("sdapi/v1/", include(a1111.urlpatterns)),
]
