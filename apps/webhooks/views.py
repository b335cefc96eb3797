"""/api/v1/webhooks: a user's webhooks, their delivery log, and a test delivery.

Scoped like API keys: users see their own webhooks, admins everyone's, and another
user's webhook answers 404. The secret is shown in full to the webhook's owner (on
creation, on GET of the webhook, and when rotated with `rotateSecret`), never in lists.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.authentication import signed_in_user
from apps.core.errors import ApiError
from apps.core.permissions import is_admin
from apps.webhooks import services
from apps.webhooks.models import EVENTS, LOG_SIZE, Delivery, Webhook

TAGS = ["Webhooks"]


class WebhookSerializer(serializers.Serializer):
    """The fields of a webhook a client sets (the URL is checked by the service)."""

    url = serializers.CharField(help_text="http(s); checked after DNS resolution")
    events = serializers.ListField(
        child=serializers.CharField(max_length=40),
        max_length=len(EVENTS),
        required=False,
        help_text=f"any of {', '.join(EVENTS)}; default all",
    )
    description = serializers.CharField(max_length=200, allow_blank=True, required=False)
    active = serializers.BooleanField(required=False)
    scope = serializers.ChoiceField(
        choices=Webhook.Scope.choices,
        required=False,
        help_text="own (default): your jobs and files; all: everyone's (admins only)",
    )
    rotateSecret = serializers.BooleanField(required=False, help_text="PUT/PATCH: a new secret")


class WebhookSchema(serializers.Serializer):
    """A webhook as answered (documentation only)."""

    id = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField())
    active = serializers.BooleanField()
    scope = serializers.CharField()
    secretPrefix = serializers.CharField()
    secret = serializers.CharField(required=False, help_text="to its owner, when shown")
    owner = serializers.DictField(required=False, help_text="to admins")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class DeliverySchema(serializers.Serializer):
    """A delivery as answered (documentation only)."""

    id = serializers.UUIDField()
    event = serializers.CharField()
    status = serializers.ChoiceField(choices=Delivery.Status.choices)
    attempts = serializers.IntegerField()
    responseStatus = serializers.IntegerField(allow_null=True)
    latencyMs = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    nextAttemptAt = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()
    history = serializers.ListField(child=serializers.DictField())
    payload = serializers.DictField()


def webhook_json(webhook: Webhook, request: Request, secret: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": str(webhook.id),
        "url": webhook.url,
        "description": webhook.description,
        "events": webhook.events,
        "active": webhook.active,
        "scope": webhook.scope,
        "secretPrefix": webhook.secret[: len(services.SECRET_PREFIX) + 4],
        "createdAt": webhook.created_at.isoformat(),
        "updatedAt": webhook.updated_at.isoformat(),
    }
    if secret and webhook.owner_id == request.user.pk:
        data["secret"] = webhook.secret
    if is_admin(request):
        data["owner"] = {"id": str(webhook.owner_id), "username": webhook.owner.username}
    return data


def delivery_json(delivery: Delivery) -> dict[str, Any]:
    at = delivery.next_attempt_at
    return {
        "id": str(delivery.id),
        "event": delivery.event,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "responseStatus": delivery.response_status,
        "latencyMs": delivery.latency_ms,
        "error": delivery.error,
        "nextAttemptAt": at.isoformat() if at else None,
        "createdAt": delivery.created_at.isoformat(),
        "history": delivery.history,
        "payload": delivery.payload,
    }


def visible_webhook(request: Request, webhook_id: UUID) -> Webhook:
    webhook = (
        Webhook.objects.visible_to(request.user)
        .select_related("owner")
        .filter(pk=webhook_id)
        .first()
    )
    if webhook is None:
        raise ApiError(404, "NOT_FOUND", "Webhook not found")
    return webhook


def valid_fields(request: Request, partial: bool) -> dict[str, Any]:
    serializer = WebhookSerializer(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class WebhooksView(APIView):
    """List your webhooks (admins: everyone's), or add one (its secret is in the answer)."""

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_list",
        responses={200: inline_serializer("WebhookList", {"webhooks": WebhookSchema(many=True)})},
    )
    def get(self, request: Request) -> Response:
        webhooks = Webhook.objects.visible_to(request.user).select_related("owner")
        return Response({"webhooks": [webhook_json(w, request) for w in webhooks]})

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_create",
        request=WebhookSerializer,
        responses={201: WebhookSchema},
    )
    def post(self, request: Request) -> Response:
        fields = valid_fields(request, partial=False)
        webhook = services.create(signed_in_user(request), fields)
        return Response(webhook_json(webhook, request, secret=True), status=201)


class WebhookDetailView(APIView):
    """One webhook: read it (with its secret, for its owner), change it, delete it."""

    @extend_schema(tags=TAGS, operation_id="webhooks_get", responses={200: WebhookSchema})
    def get(self, request: Request, webhook_id: UUID) -> Response:
        return Response(webhook_json(visible_webhook(request, webhook_id), request, secret=True))

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_update",
        request=WebhookSerializer,
        responses={200: WebhookSchema},
    )
    def put(self, request: Request, webhook_id: UUID) -> Response:
        return self.change(request, webhook_id, partial=False)

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_partial_update",
        request=WebhookSerializer(partial=True),
        responses={200: WebhookSchema},
    )
    def patch(self, request: Request, webhook_id: UUID) -> Response:
        return self.change(request, webhook_id, partial=True)

    def change(self, request: Request, webhook_id: UUID, partial: bool) -> Response:
        webhook = visible_webhook(request, webhook_id)
        fields = valid_fields(request, partial)
        if not partial:  # PUT: what is left out goes back to its default
            fields = {"events": list(EVENTS), "description": "", "active": True, **fields}
            fields.setdefault("scope", Webhook.Scope.OWN)
        rotated = services.update(webhook, request.user, fields)
        return Response(webhook_json(webhook, request, secret=rotated))

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_delete",
        responses={200: inline_serializer("WebhookDeleted", {"ok": serializers.BooleanField()})},
    )
    def delete(self, request: Request, webhook_id: UUID) -> Response:
        visible_webhook(request, webhook_id).delete()  # its deliveries, pending ones included
        return Response({"ok": True})


class WebhookTestView(APIView):
    """Send a `webhook.test` event now (one attempt) and answer how it went."""

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_test",
        request=None,
        responses={200: DeliverySchema, 202: DeliverySchema},
        description="200 with the delivery once its attempt ended (succeeded or failed); "
        "202 if no worker took it within the send's time limit.",
    )
    def post(self, request: Request, webhook_id: UUID) -> Response:
        delivery = services.send_test(visible_webhook(request, webhook_id))
        done = delivery.next_attempt_at is None
        return Response(delivery_json(delivery), status=200 if done else 202)


class WebhookDeliveriesView(APIView):
    """The webhook's last deliveries, newest first, each with its attempts."""

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_deliveries",
        responses={
            200: inline_serializer("WebhookDeliveries", {"deliveries": DeliverySchema(many=True)})
        },
        description=f"The last {LOG_SIZE} deliveries are kept.",
    )
    def get(self, request: Request, webhook_id: UUID) -> Response:
        webhook = visible_webhook(request, webhook_id)
        deliveries = webhook.deliveries.order_by("-created_at", "-id")[:LOG_SIZE]
        return Response({"deliveries": [delivery_json(d) for d in deliveries]})
