"""What every page's template knows: the signed-in user, limits the browser checks before
uploading, the version, whether a logo was uploaded."""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _

from apps.branding.views import logo_path
from apps.core.ownership import is_admin_user
from apps.web.access import web_user


def script_strings() -> dict[str, str]:
    """Texts the scripts show, translated like the templates' ({n}-style placeholders)."""
    return {
        "cancel": _("Cancel"),
        "cancelled": _("Cancelled"),
        "completed": _("Done"),
        "copied": _("Copied"),
        "copy": _("Copy"),
        "download": _("Download"),
        "failed": _("Failed"),
        "finishedFiles": _("Files finished so far"),
        "networkLost": _("Connection lost; reconnecting…"),
        "processing": _("Processing"),
        "queued": _("Queued"),
        "queuePosition": _("Position in queue: {n}"),
        "eta": _("About {s} s left"),
        "tooLarge": _("{name} is larger than the {mb} MB upload limit"),
        "notImage": _("{name} is not an image file"),
        "notVideo": _("{name} is not a video file (MP4, MOV, MKV, WebM or GIF)"),
        "saved": _("Saved"),
        "deleted": _("Deleted"),
        "confirmDelete": _("Delete {name}? This cannot be undone."),
        "error": _("Something went wrong"),
    }


def ui(request: HttpRequest) -> dict[str, Any]:
    user = web_user(request)
    return {
        "ui_user": user,
        "ui_is_admin": is_admin_user(user),
        "ui_auth_enabled": settings.AUTH_ENABLED,
        "ui_has_logo": logo_path().is_file(),
        "ui_version": settings.VERSION,
        "ui_strings": script_strings(),
        "ui_limits": {
            "maxUploadBytes": settings.MAX_UPLOAD_SIZE_MB * 1024 * 1024,
            "maxUploadMb": settings.MAX_UPLOAD_SIZE_MB,
            "maxBatchSize": settings.MAX_BATCH_SIZE,
        },
    }
