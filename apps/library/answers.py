"""A library file and its versions as the API answers them (the REST views and the MCP
server show the same shapes)."""

from __future__ import annotations

from typing import Any

from apps.library.models import FileVersion, StoredFile
from tools import imaging


def file_json(stored: StoredFile, base_url: str = "") -> dict[str, Any]:
    """A file as listed: its latest version's facts and its number of versions. Links are
    paths, or absolute URLs under `base_url`."""
    base = f"{base_url}/api/v1/files/{stored.pk}"
    return {
        "id": str(stored.pk),
        "name": stored.name,
        "size": stored.size,
        "width": stored.width,
        "height": stored.height,
        "format": stored.format,
        "mediaType": imaging.media_type(stored.format),
        "version": stored.latest_version,
        "versionCount": stored.version_count,
        "owner": stored.owner.username if stored.owner else None,
        "createdAt": stored.created_at.isoformat(),
        "updatedAt": stored.updated_at.isoformat(),
        "downloadUrl": f"{base}/download",
        "thumbnailUrl": f"{base}/thumbnail",
    }


def version_json(version: FileVersion) -> dict[str, Any]:
    """One version: its facts and how it was made."""
    return {
        "number": version.number,
        "size": version.size,
        "width": version.width,
        "height": version.height,
        "format": version.format,
        "mediaType": version.media_type,
        "createdAt": version.created_at.isoformat(),
        "provenance": {
            "source": version.source,
            "toolId": version.tool_id or None,
            "settings": version.settings,
            "engine": version.engine or None,
            "model": version.model or None,
            "modelSha256": version.model_sha256 or None,
            "device": version.device or None,
            "appVersion": version.app_version,
            "jobId": str(version.job_id) if version.job_id else None,
        },
    }
