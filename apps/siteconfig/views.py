"""/api/v1/settings: read (any signed-in user), write known keys (admin)."""

from typing import Any

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import is_admin
from apps.siteconfig.models import SiteSetting
from apps.siteconfig.registry import (
    KNOWN,
    SettingValueError,
    all_settings,
    get_setting,
    set_setting,
)


class ReadOrAdmin(BasePermission):
    message = "Admin role required to change settings"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_admin(request)


class ValueSerializer(serializers.Serializer):
    value = serializers.JSONField()


def parse_value(key: str, value: Any) -> Any:
    """The normalised value for a known, writable key; ApiError otherwise."""
    known = KNOWN.get(key)
    if known is None:
        raise ApiError(400, "UNKNOWN_SETTING", f"Unknown setting: {key}", known=sorted(KNOWN))
    if not known.writable:
        raise ApiError(400, "READONLY_SETTING", f"{key} is read-only here: {known.help}")
    try:
        return known.parse(value)
    except SettingValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", f"{key}: {exc}") from None


class SettingsView(APIView):
    permission_classes = [ReadOrAdmin]

    @extend_schema(operation_id="settings_list", responses={200: dict})
    def get(self, request: Request) -> Response:
        return Response({"settings": all_settings()})

    @extend_schema(operation_id="settings_update_many", request=dict, responses={200: dict})
    @transaction.atomic
    def put(self, request: Request) -> Response:
        """Several keys at once, all or nothing: {"key": value, …}."""
        if not isinstance(request.data, dict) or not request.data:
            raise ApiError(400, "VALIDATION_ERROR", "Body must be a JSON object of key: value")
        parsed = {key: parse_value(key, value) for key, value in request.data.items()}
        for key, value in parsed.items():
            set_setting(key, value)
        return Response({"ok": True, "settings": all_settings()})


class SettingDetailView(APIView):
    permission_classes = [ReadOrAdmin]

    @extend_schema(operation_id="settings_get", responses={200: dict})
    def get(self, request: Request, key: str) -> Response:
        if key not in KNOWN:
            raise ApiError(404, "NOT_FOUND", f"Unknown setting: {key}")
        row = SiteSetting.objects.filter(key=key).first()
        return Response(
            {
                "key": key,
                "value": get_setting(key),
                "updatedAt": row.updated_at.isoformat() if row else None,
            }
        )

    @extend_schema(operation_id="settings_set", request=ValueSerializer, responses={200: dict})
    def put(self, request: Request, key: str) -> Response:
        if not isinstance(request.data, dict) or "value" not in request.data:
            raise ApiError(400, "VALIDATION_ERROR", 'Body must be {"value": …}')
        value = set_setting(key, parse_value(key, request.data["value"]))
        return Response({"ok": True, "key": key, "value": value})
