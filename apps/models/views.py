"""/api/v1/models: the catalog, what is installed, and (admins) importing a model file."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import CanUseTools, IsAdmin
from apps.core.uploads import first_upload, upload_to_path
from apps.models.models import UnloadRequest
from apps.models.runtime import REPORT_S, loaded_by_model
from apps.models.services import listed, model_json, spec_or_error
from tools.ai import install


def scale_param(raw: str | None) -> int | None:
    if raw in (None, ""):
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise ApiError(400, "VALIDATION_ERROR", "scale must be an integer from 1 to 16")
    return int(raw)


class ModelListView(APIView):
    """GET ?task=&scale=: every catalog model and whether it is installed here."""

    permission_classes = [CanUseTools]

    @extend_schema(operation_id="models_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        task = request.query_params.get("task") or None
        scale = scale_param(request.query_params.get("scale"))
        loaded = loaded_by_model()
        models = [model_json(spec, loaded) for spec in listed(task, scale)]
        return Response({"version": settings.VERSION, "models": models})


class ModelDetailView(APIView):
    """GET: one model. DELETE (admins): remove a downloaded model's files; shipped and
    system models are part of the installation (409)."""

    def get_permissions(self) -> list[Any]:
        return [IsAdmin()] if self.request.method == "DELETE" else [CanUseTools()]

    @extend_schema(operation_id="models_get", responses={200: dict})
    def get(self, request: Request, model_id: str) -> Response:
        return Response(model_json(spec_or_error(model_id)))

    @extend_schema(operation_id="models_delete", responses={200: dict})
    def delete(self, request: Request, model_id: str) -> Response:
        spec = spec_or_error(model_id)
        if spec.source.kind != "download":
            raise ApiError(
                409,
                "MODEL_NOT_DELETABLE",
                f"{spec.id} ships with Pixelsmith ({spec.source.kind}); only downloaded models "
                "can be deleted",
            )
        removed = install.remove(settings.MODELS_DIR, spec)
        UnloadRequest.objects.create(model_id=spec.id)  # workers drop its sessions too
        return Response({**model_json(spec), "removed": removed})


class ModelUnloadView(APIView):
    """POST (admins): every worker process drops the model's sessions (pinned ones too)
    within REPORT_S seconds; the next job that needs it loads it again."""

    permission_classes = [IsAdmin]

    @extend_schema(operation_id="models_unload", request=None, responses={202: dict})
    def post(self, request: Request, model_id: str) -> Response:
        spec = spec_or_error(model_id)
        UnloadRequest.objects.create(model_id=spec.id)
        body = {"model": spec.id, "unloading": True, "withinS": REPORT_S}
        return Response(body, status=202)


class ModelImportView(APIView):
    """POST a model file (multipart `file`): it must be one of the model's files, known by
    its sha256 (the way in for a machine without Internet access)."""

    permission_classes = [IsAdmin]

    @extend_schema(
        operation_id="models_import",
        request={
            "multipart/form-data": inline_serializer(
                "ModelImport", {"file": serializers.FileField()}
            )
        },
        responses={200: dict},
    )
    def post(self, request: Request, model_id: str) -> Any:
        spec = spec_or_error(model_id)
        if spec.source.kind == "system":
            raise ApiError(409, "SYSTEM_MODEL", f"{spec.id}: {install.how_to_install(spec)}")
        upload = first_upload(request, ("file",))
        with upload_to_path(upload) as path:
            file = install.import_file(settings.MODELS_DIR, spec, path)
        return Response({**model_json(spec), "imported": file.name})
