"""Permission classes for the contract's table: admins manage, users use."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.ownership import is_admin_user

if TYPE_CHECKING:  # importing DRF views here would be circular (DRF loads this at start-up)
    from rest_framework.views import APIView


def is_admin(request: Request) -> bool:
    return is_admin_user(request.user)


class IsAdmin(BasePermission):
    """Only admins (by session or by an admin's API key)."""

    message = "Admin role required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_admin(request)


class CanUseTools(BasePermission):
    """Any signed-in user; anyone at all when AUTH_ENABLED=false.

    Anonymous callers stay anonymous: they get tools, never admin rights.
    """

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not settings.AUTH_ENABLED:
            return True
        return bool(request.user and request.user.is_authenticated)
