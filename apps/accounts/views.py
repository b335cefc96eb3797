"""The /api/auth/* endpoints of the contract."""

from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import signed_in_user
from apps.accounts.models import ROLE_ADMIN, ROLES, AuthSession, User
from apps.accounts.services import (
    change_password,
    check_password_strength,
    other_admins_exist,
    resolve_team,
    revoke_credentials,
    sign_in,
    user_json,
)
from apps.core.errors import ApiError
from apps.core.permissions import IsAdmin
from apps.core.tokens import client_ip

OK = {"ok": True}


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=True)
    password = serializers.CharField(max_length=1024, trim_whitespace=False)


class ChangePasswordSerializer(serializers.Serializer):
    currentPassword = serializers.CharField(max_length=1024, trim_whitespace=False)
    newPassword = serializers.CharField(max_length=1024, trim_whitespace=False)


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(
        r"^[A-Za-z0-9._-]{1,50}$",
        error_messages={"invalid": "1-50 characters: letters, digits, '.', '-' or '_'"},
    )
    password = serializers.CharField(max_length=1024, trim_whitespace=False)
    role = serializers.ChoiceField(choices=ROLES, default="user")
    team = serializers.CharField(max_length=100, required=False, allow_blank=True)


class UpdateUserSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=ROLES, required=False)
    team = serializers.CharField(max_length=100, required=False)


class ResetPasswordSerializer(serializers.Serializer):
    newPassword = serializers.CharField(max_length=1024, trim_whitespace=False)


def validated(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def session_of(request: Request) -> AuthSession | None:
    return request.auth if isinstance(request.auth, AuthSession) else None


def get_user_or_404(user_id: UUID) -> User:
    user = User.objects.select_related("team").filter(pk=user_id).first()
    if user is None:
        raise ApiError(404, "NOT_FOUND", "User not found")
    return user


class LoginView(APIView):
    """Exchange username + password for a 24 h bearer token."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(request=LoginSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = validated(LoginSerializer, request.data)
        token, session = sign_in(
            data["username"],
            data["password"],
            client_ip(request),
            request.META.get("HTTP_USER_AGENT", ""),
        )
        user = session.user
        return Response(
            {
                "token": token,
                "expiresAt": session.expires_at.isoformat(),
                "user": user_json(user),
                "mustChangePassword": user.must_change_password,
            }
        )

    def finalize_response(self, request: Request, response: Response, *args: Any, **kw: Any) -> Any:
        if response.status_code == 429 and isinstance(response.data, dict):
            response["Retry-After"] = str(response.data.get("retryAfter", 1))
        return super().finalize_response(request, response, *args, **kw)


class LogoutView(APIView):
    """End the session whose token made this request."""

    allowed_before_password_change = True

    @extend_schema(request=None, responses={200: dict})
    def post(self, request: Request) -> Response:
        session = session_of(request)
        if session is None:
            raise ApiError(400, "NOT_A_SESSION", "This request is not made with a session token")
        session.delete()
        return Response(OK)


class SessionView(APIView):
    """Who am I, and until when."""

    allowed_before_password_change = True

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        session = session_of(request)
        return Response(
            {
                "user": user_json(signed_in_user(request)),
                "expiresAt": session.expires_at.isoformat() if session else None,
                "authMethod": "session" if session else "apiKey",
            }
        )


class ChangePasswordView(APIView):
    """Change one's own password; ends all other sessions and deletes all API keys."""

    allowed_before_password_change = True

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ChangePasswordSerializer, responses={200: dict})
    def post(self, request: Request) -> Response:
        data = validated(ChangePasswordSerializer, request.data)
        change_password(
            signed_in_user(request),
            data["currentPassword"],
            data["newPassword"],
            session_of(request),
        )
        return Response(OK)


class UsersView(APIView):
    """List all users (admin)."""

    permission_classes = [IsAdmin]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        users = User.objects.select_related("team").all()
        return Response({"users": [user_json(u) for u in users]})


class RegisterView(APIView):
    """Create a user (admin). New users must change their password at first login."""

    permission_classes = [IsAdmin]

    @extend_schema(request=RegisterSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        data = validated(RegisterSerializer, request.data)
        if User.objects.filter(username__iexact=data["username"]).exists():
            raise ApiError(409, "CONFLICT", "Username already exists")
        user = User(
            username=data["username"],
            role=data["role"],
            team=resolve_team(data.get("team")),
            must_change_password=True,
        )
        check_password_strength(data["password"], user)
        user.set_password(data["password"])
        try:
            user.save()
        except IntegrityError:
            raise ApiError(409, "CONFLICT", "Username already exists") from None
        return Response(user_json(user), status=201)


class UserDetailView(APIView):
    """Change a user's role or team, or delete the user (admin)."""

    permission_classes = [IsAdmin]

    @extend_schema(request=UpdateUserSerializer, responses={200: dict})
    @transaction.atomic
    def put(self, request: Request, user_id: UUID) -> Response:
        data = validated(UpdateUserSerializer, request.data)
        user = get_user_or_404(user_id)
        role = data.get("role")
        if role and role != user.role:
            if user.pk == request.user.pk:
                raise ApiError(400, "SELF_DEMOTE", "You cannot change your own role")
            if user.role == ROLE_ADMIN and not other_admins_exist(user):
                raise ApiError(409, "LAST_ADMIN", "Cannot demote the last admin")
            user.role = role
            revoke_credentials(user)  # privileges changed: old tokens must not keep them
        if "team" in data:
            user.team = resolve_team(data["team"])
        user.save(update_fields=["role", "team"])
        return Response({"ok": True, "user": user_json(user)})

    @extend_schema(responses={200: dict})
    @transaction.atomic
    def delete(self, request: Request, user_id: UUID) -> Response:
        user = get_user_or_404(user_id)
        if user.pk == request.user.pk:
            raise ApiError(400, "SELF_DELETE", "You cannot delete your own account")
        if user.role == ROLE_ADMIN and not other_admins_exist(user):
            raise ApiError(409, "LAST_ADMIN", "Cannot delete the last admin")
        user.delete()
        return Response(OK)


class ResetPasswordView(APIView):
    """Set a user's password (admin); they must change it at next login."""

    permission_classes = [IsAdmin]

    @extend_schema(request=ResetPasswordSerializer, responses={200: dict})
    @transaction.atomic
    def post(self, request: Request, user_id: UUID) -> Response:
        data = validated(ResetPasswordSerializer, request.data)
        user = get_user_or_404(user_id)
        check_password_strength(data["newPassword"], user)
        user.set_password(data["newPassword"])
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        revoke_credentials(user)
        return Response(OK)
