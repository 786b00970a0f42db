"""Channels API: outbound messages with their timelines, inbound messages, webhook events."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from madansara.api.exceptions import Conflict
from madansara.channels import registry
from madansara.channels.api import filters, serializers
from madansara.channels.models import InboundMessage, Message, WebhookEvent, WebhookStatus
from madansara.channels.simulate import sandbox_simulate
from madansara.channels.webhooks.processing import webhook_event_retry


class MessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Outbound messages; the detail carries every attempt and the status timeline."""

    domain = "channels"
    filterset_class = filters.MessageFilter
    search_fields = ["to", "subject", "provider_message_id"]
    ordering_fields = ["created_at", "sent_at"]
    write_actions = ("simulate",)
    required_perms = {"simulate": ["channels.change_message"]}

    def get_queryset(self):
        queryset = Message.objects.all()
        if self.action != "list":
            queryset = queryset.prefetch_related("attempts", "events")
        return queryset

    def get_serializer_class(self):
        if self.action == "list":
            return serializers.MessageSerializer
        if self.action == "simulate":
            return serializers.SimulateSerializer
        return serializers.MessageDetailSerializer

    @extend_schema(request=serializers.SimulateSerializer, responses=serializers.MessageDetailSerializer)
    @action(detail=True, methods=["post"])
    def simulate(self, request, pk=None):
        """Sandbox only: fake a delivered/open/click/reply/failure/bounce event for this message."""
        message = self.get_object()
        data = serializers.SimulateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            sandbox_simulate(
                message=message, event=data.validated_data["event"], text=data.validated_data.get("text", "")
            )
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        message = self.get_queryset().get(pk=message.pk)
        return Response(serializers.MessageDetailSerializer(message).data, status=status.HTTP_200_OK)


class InboundMessageViewSet(viewsets.ReadOnlyModelViewSet):
    """Normalised inbound messages, comments, mentions, postbacks and story replies."""

    domain = "channels"
    queryset = InboundMessage.objects.all()
    serializer_class = serializers.InboundMessageSerializer
    filterset_class = filters.InboundMessageFilter
    search_fields = ["sender", "subject", "text"]
    ordering_fields = ["received_at"]


class WebhookEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Verified raw webhook events and their processing status."""

    domain = "channels"
    queryset = WebhookEvent.objects.all()
    serializer_class = serializers.WebhookEventSerializer
    filterset_class = filters.WebhookEventFilter
    ordering_fields = ["received_at"]
    write_actions = ("retry",)
    required_perms = {"retry": ["channels.change_webhookevent"]}

    @extend_schema(request=None, responses=serializers.WebhookEventSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Queue a failed event for processing again."""
        event = self.get_object()
        if event.status == WebhookStatus.PROCESSED:
            raise Conflict("This event was already processed.")
        webhook_event_retry(event=event)
        event.refresh_from_db()
        return Response(self.get_serializer(event).data, status=status.HTTP_202_ACCEPTED)


class ChannelStatusView(APIView):
    """Which channels are live and which answer from the sandbox (no secrets)."""

    domain = "channels"
    required_perms = {"*": ["channels.view_message"]}

    @extend_schema(responses=serializers.ChannelStatusSerializer(many=True))
    def get(self, request):
        return Response(serializers.ChannelStatusSerializer(registry.channel_status(), many=True).data)
