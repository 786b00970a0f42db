"""Outbound webhooks over the API: endpoints (the secret is shown on creation and rotation),
their deliveries and replays."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from madansara.models import APIKey
from madansara.webhooks_out.models import EventType, WebhookDelivery, WebhookEndpoint
from madansara.webhooks_out.services import (
    webhook_delivery_replay,
    webhook_endpoint_create,
    webhook_endpoint_rotate_secret,
    webhook_endpoint_update,
)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices), min_length=1)
    api_key = serializers.CharField(source="api_key.prefix", read_only=True, allow_null=True, default=None)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "url", "description", "event_types", "is_active", "api_key", "disabled_at", "disabled_reason",
                  "consecutive_failures", "created_at", "updated_at"]  # fmt: skip
        read_only_fields = ["disabled_at", "disabled_reason", "consecutive_failures", "created_at", "updated_at"]


class WebhookEndpointSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(read_only=True, help_text="whsec_… : verify our signatures with it; store it now")

    class Meta(WebhookEndpointSerializer.Meta):
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event_id", "event_type", "body", "status", "attempts", "next_attempt_at",
                  "last_status_code", "last_error", "created_at", "delivered_at"]  # fmt: skip
        read_only_fields = fields


def _validation(exc: ValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)


class WebhookEndpointViewSet(viewsets.ModelViewSet):
    """Your webhook endpoints (superusers see everyone's). Events outside your key's scopes are refused."""

    domain = "webhooks"
    serializer_class = WebhookEndpointSerializer
    queryset = WebhookEndpoint.objects.none()
    write_actions = ("rotate_secret",)
    required_perms = {"rotate_secret": ["webhooks_out.change_webhookendpoint"]}
    filterset_fields = ["is_active"]
    ordering_fields = ["created_at", "url"]

    def get_queryset(self):
        endpoints = WebhookEndpoint.objects.select_related("api_key")
        return endpoints if self.request.user.is_superuser else endpoints.filter(owner=self.request.user)

    @extend_schema(request=WebhookEndpointSerializer, responses={201: WebhookEndpointSecretSerializer})
    def create(self, request):
        data = WebhookEndpointSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            endpoint = webhook_endpoint_create(
                url=values["url"],
                event_types=values["event_types"],
                description=values.get("description", ""),
                owner=request.user,
                api_key=request.auth if isinstance(request.auth, APIKey) else None,
            )
        except ValidationError as exc:
            raise _validation(exc) from exc
        return Response(WebhookEndpointSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        try:
            serializer.instance = webhook_endpoint_update(
                endpoint=serializer.instance, actor=self.request.user, **serializer.validated_data
            )
        except ValidationError as exc:
            raise _validation(exc) from exc

    @extend_schema(request=None, responses=WebhookEndpointSecretSerializer)
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request, pk=None):
        """A new signing secret, effective at once (shown only in this response)."""
        endpoint = webhook_endpoint_rotate_secret(endpoint=self.get_object(), actor=request.user)
        return Response(WebhookEndpointSecretSerializer(endpoint).data)


class WebhookDeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Deliveries to your endpoints, with every retry's outcome; replay one to receive it again."""

    domain = "webhooks"
    serializer_class = WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    write_actions = ("replay",)
    required_perms = {"replay": ["webhooks_out.change_webhookdelivery"]}
    filterset_fields = ["endpoint", "status", "event_type"]
    ordering_fields = ["created_at"]

    def get_queryset(self):
        deliveries = WebhookDelivery.objects.select_related("endpoint")
        return deliveries if self.request.user.is_superuser else deliveries.filter(endpoint__owner=self.request.user)

    @extend_schema(request=None, responses=WebhookDeliverySerializer)
    @action(detail=True, methods=["post"])
    def replay(self, request, pk=None):
        """Deliver again now, with the same webhook-id (receivers deduplicate on it)."""
        try:
            delivery = webhook_delivery_replay(delivery=self.get_object(), actor=request.user)
        except ValidationError as exc:
            raise _validation(exc) from exc
        return Response(WebhookDeliverySerializer(delivery).data)
