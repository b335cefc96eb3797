"""/api/v1/teams: list (any user), create/rename/delete (admin)."""

from typing import Any
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import Count
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.errors import ApiError
from apps.core.permissions import is_admin
from apps.teams.models import Team


class TeamSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, trim_whitespace=True)


class ReadOrAdmin(BasePermission):
    message = "Admin role required"

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_admin(request)


def team_json(team: Team) -> dict[str, Any]:
    return {
        "id": str(team.id),
        "name": team.name,
        "isDefault": team.is_default,
        "memberCount": getattr(team, "member_count", None),
        "createdAt": team.created_at.isoformat(),
    }


def clean_name(data: Any) -> str:
    serializer = TeamSerializer(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data["name"]


def save_unique(team: Team) -> None:
    clash = Team.objects.filter(name__iexact=team.name).exclude(pk=team.pk).exists()
    if clash:
        raise ApiError(409, "CONFLICT", "Team name already exists")
    try:
        with transaction.atomic():
            team.save()
    except IntegrityError:
        raise ApiError(409, "CONFLICT", "Team name already exists") from None


def get_team_or_404(team_id: UUID) -> Team:
    team = Team.objects.annotate(member_count=Count("members")).filter(pk=team_id).first()
    if team is None:
        raise ApiError(404, "NOT_FOUND", "Team not found")
    return team


class TeamsView(APIView):
    permission_classes = [ReadOrAdmin]

    @extend_schema(responses={200: dict})
    def get(self, request: Request) -> Response:
        Team.default()  # exists from the first migration; recreated if someone removed it
        teams = Team.objects.annotate(member_count=Count("members"))
        return Response({"teams": [team_json(t) for t in teams]})

    @extend_schema(request=TeamSerializer, responses={201: dict})
    def post(self, request: Request) -> Response:
        team = Team(name=clean_name(request.data))
        save_unique(team)
        team.member_count = 0  # type: ignore[attr-defined]
        return Response(team_json(team), status=201)


class TeamDetailView(APIView):
    permission_classes = [ReadOrAdmin]

    @extend_schema(request=TeamSerializer, responses={200: dict})
    def put(self, request: Request, team_id: UUID) -> Response:
        team = get_team_or_404(team_id)
        team.name = clean_name(request.data)
        save_unique(team)
        return Response({"ok": True, "team": team_json(team)})

    @extend_schema(responses={200: dict})
    def delete(self, request: Request, team_id: UUID) -> Response:
        team = get_team_or_404(team_id)
        if team.is_default:
            raise ApiError(409, "DEFAULT_TEAM", "The default team cannot be deleted")
        if team.member_count:  # type: ignore[attr-defined]
            raise ApiError(
                409,
                "TEAM_HAS_MEMBERS",
                f"Team has {team.member_count} member(s); move them first",  # type: ignore[attr-defined]
            )
        team.delete()
        return Response({"ok": True})
