"""/api/v1/upload and /api/v1/files: the file library over HTTP.

Files are scoped like jobs (`services.files_visible_to`): users see their own, admins
everyone's, and another user's file answers 404 (its existence is not disclosed).
"""

from __future__ import annotations

from pathlib import PurePosixPath
from uuid import UUID

from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import pagination
from apps.core.errors import ApiError
from apps.core.ownership import owner_of
from apps.core.permissions import CanUseTools
from apps.core.streaming import DiskFileResponse, stream_file
from apps.library import archive, blobs, services
from apps.library.answers import file_json, version_json
from apps.library.models import FileVersion, StoredFile
from apps.library.thumbnails import ensure_thumbnail
from tools import imaging

# sort parameter -> ORDER BY; the id breaks ties so that pages never overlap or skip.
SORTS = {
    "date": ("updated_at", "id"),
    "-date": ("-updated_at", "-id"),
    "name": ("search_name", "id"),
    "-name": ("-search_name", "-id"),
    "size": ("size", "id"),
    "-size": ("-size", "-id"),
}
UPLOAD_FORM = {
    "multipart/form-data": inline_serializer(
        "LibraryUpload", {"files": serializers.ListField(child=serializers.FileField())}
    )
}


def filtered(request: Request) -> QuerySet[StoredFile]:
    """The visible files matching `search` (in names, any case) and `format`, sorted by `sort`."""
    files = services.files_visible_to(request.user)
    search = request.query_params.get("search", "").strip()
    if search:
        files = files.filter(search_name__contains=search.casefold())
    fmt = request.query_params.get("format", "").strip().lower()
    if fmt:
        if fmt not in imaging.supported_formats():
            known = ", ".join(sorted(imaging.supported_formats()))
            raise ApiError(400, "VALIDATION_ERROR", f"format must be one of {known}")
        files = files.filter(format=fmt)
    sort = request.query_params.get("sort", "-date")
    if sort not in SORTS:
        raise ApiError(400, "VALIDATION_ERROR", f"sort must be one of {', '.join(SORTS)}")
    return files.order_by(*SORTS[sort])


def chosen_version(request: Request, stored: StoredFile) -> FileVersion:
    """`?version=N`, or the latest; 404 for a version the file does not have."""
    number = pagination.int_param(request, "version", stored.latest_version)
    version = None
    if 1 <= number <= stored.latest_version:  # also keeps huge numbers away from the database
        version = stored.versions.select_related("blob").filter(number=number).first()
    if version is None:
        raise ApiError(404, "VERSION_NOT_FOUND", f"The file has no version {number}")
    return version


def download_name(stored: StoredFile, version: FileVersion) -> str:
    """The file's name with the version's extension: a PNG version of a.jpg is a.png."""
    return PurePosixPath(stored.name).stem + imaging.extension(version.format)


def stream_stored(
    request: Request, key: str, content_type: str, filename: str, attachment: bool
) -> DiskFileResponse:
    """Stream a stored object: from local disk, or read from S3 through Django's storage."""
    path = blobs.local_path(key)
    try:
        handle = path.open("rb") if path is not None else blobs.library_storage().open(key, "rb")
    except FileNotFoundError:
        raise ApiError(500, "BLOB_MISSING", "The stored content of this file is missing") from None
    return stream_file(
        request, handle, content_type=content_type, as_attachment=attachment, filename=filename
    )


class UploadView(APIView):
    """Store uploaded images as new library files (all or none)."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="files_upload", request=UPLOAD_FORM, responses={201: dict})
    def post(self, request: Request) -> Response:
        uploads = request.FILES.getlist("files") + request.FILES.getlist("file")
        if not uploads:
            raise ApiError(400, "NO_FILE", "No files uploaded: send multipart fields 'files'")
        if len(uploads) > settings.MAX_BATCH_SIZE:
            raise ApiError(
                400, "TOO_MANY_FILES", f"At most {settings.MAX_BATCH_SIZE} files per upload"
            )
        stored = services.store_uploads(owner_of(request.user), uploads)
        return Response({"files": [file_json(f) for f in stored]}, status=201)


class FileListView(APIView):
    """One page of the visible files, each with its latest version's facts."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="files_list",
        parameters=[
            *pagination.parameters(50),
            OpenApiParameter("search", str, description="part of the name, any case"),
            OpenApiParameter("sort", str, enum=list(SORTS), description="default -date"),
            OpenApiParameter("format", str, description="e.g. jpeg, png, webp"),
        ],
        responses={200: dict},
    )
    def get(self, request: Request) -> Response:
        return Response(pagination.page_of(request, filtered(request), "files", file_json))


class FileDetailView(APIView):
    """A file with its whole version chain and each version's provenance; or delete it."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="files_get", responses={200: dict})
    def get(self, request: Request, file_id: UUID) -> Response:
        stored = services.visible_file(request.user, file_id)
        versions = [version_json(v) for v in stored.versions.all()]
        return Response({**file_json(stored), "versions": versions})

    @extend_schema(operation_id="files_delete", responses={200: dict})
    def delete(self, request: Request, file_id: UUID) -> Response:
        services.delete_file(services.visible_file(request.user, file_id))
        return Response({"ok": True})


class FileDownloadView(APIView):
    """The bytes of the latest version, or of `?version=N`."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="files_download",
        parameters=[OpenApiParameter("version", int)],
        responses={200: bytes},
    )
    def get(self, request: Request, file_id: UUID) -> DiskFileResponse:
        stored = services.visible_file(request.user, file_id)
        version = chosen_version(request, stored)
        response = stream_stored(
            request, version.blob.key, version.media_type, download_name(stored, version), True
        )
        response["X-Version"] = str(version.number)
        return response


class FilesArchiveView(APIView):
    """POST {fileIds: [...]} (JSON, or repeated form fields): the latest version of each named
    file, in one ZIP (at most MAX_BATCH_SIZE files; 404 if any is not the caller's to see)."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="files_download_many",
        request=inline_serializer(
            "FilesArchive", {"fileIds": serializers.ListField(child=serializers.UUIDField())}
        ),
        responses={200: bytes},
    )
    def post(self, request: Request) -> DiskFileResponse:
        data = request.data
        # JSON {fileIds: [...]}, or a form's repeated fileIds (the browser's download form:
        # its answer is saved by the browser as it streams, never held in the page).
        ids = data.getlist("fileIds") if hasattr(data, "getlist") else None
        if not ids and isinstance(data, dict):
            ids = data.get("fileIds")
        if not isinstance(ids, list) or not ids:
            raise ApiError(400, "VALIDATION_ERROR", "fileIds must be a non-empty list of file ids")
        if len(ids) > settings.MAX_BATCH_SIZE:
            raise ApiError(
                400, "TOO_MANY_FILES", f"At most {settings.MAX_BATCH_SIZE} files per download"
            )
        if len(set(map(str, ids))) != len(ids):
            raise ApiError(400, "VALIDATION_ERROR", "fileIds names a file twice")
        files = services.visible_files(request.user, [str(i) for i in ids])
        return stream_file(
            request,
            archive.zip_latest(files),
            content_type="application/zip",
            as_attachment=True,
            filename=f"pixelsmith-{len(files)}-files.zip",
        )


class FileThumbnailView(APIView):
    """A JPEG that fits in 300×300, rendered on first request and then kept."""

    permission_classes = [CanUseTools]

    @extend_schema(
        operation_id="files_thumbnail",
        parameters=[OpenApiParameter("version", int)],
        responses={200: bytes},
    )
    def get(self, request: Request, file_id: UUID) -> DiskFileResponse:
        stored = services.visible_file(request.user, file_id)
        version = chosen_version(request, stored)
        name = f"{PurePosixPath(stored.name).stem}_thumb.jpg"
        return stream_stored(request, ensure_thumbnail(version), "image/jpeg", name, False)
