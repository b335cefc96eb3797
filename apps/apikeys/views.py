"""/api/v1/api-keys: create (shown once), list, delete."""

import secrets
from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import signed_in_user
from apps.apikeys.models import ApiKey
from apps.core.errors import ApiError
from apps.core.permissions import is_admin
from apps.core.tokens import sha256_hex

KEY_PREFIX = "si_"


class CreateKeySerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, default="Default API Key")


def new_raw_key() -> str:
    return KEY_PREFIX + secrets.token_hex(48)  # 96 hex characters


def key_json(key: ApiKey, with_owner: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "createdAt": key.created_at.isoformat(),
        "lastUsedAt": key.last_used_at.isoformat() if key.last_used_at else None,
    }
    if with_owner:
        data["owner"] = {"id": str(key.user_id), "username": key.user.username}
    return data


class ApiKeysView(APIView):
    """Any signed-in user manages their keys; admins see everyone's."""

    @extend_schema(request=CreateKeySerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        serializer = CreateKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = new_raw_key()
        key = ApiKey.objects.create(
            user=signed_in_user(request),
            name=serializer.validated_data["name"].strip() or "Default API Key",
            key_hash=sha256_hex(raw),
            prefix=raw[:11],
        )
        return Response({**key_json(key), "key": raw}, status=201)

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        admin = is_admin(request)
        keys = ApiKey.objects.visible_to(request.user).select_related("user")
        return Response({"apiKeys": [key_json(k, with_owner=admin) for k in keys]})


class ApiKeyDetailView(APIView):
    @extend_schema(responses={200: dict})
    def delete(self, request: Request, key_id: UUID) -> Response:
        deleted, _ = ApiKey.objects.visible_to(request.user).filter(pk=key_id).delete()
        if not deleted:
            raise ApiError(404, "NOT_FOUND", "API key not found")
        return Response({"ok": True})
