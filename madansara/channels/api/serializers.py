from rest_framework import serializers

from madansara.channels.models import DeliveryAttempt, InboundMessage, Message, MessageEvent, WebhookEvent
from madansara.channels.simulate import SIMULATIONS


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = ["created_at", "provider", "outcome", "error_code", "error_message", "retry_after", "latency_ms",
                  "provider_message_id"]  # fmt: skip


class MessageEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = MessageEvent
        fields = ["occurred_at", "kind", "provider_event_id", "data"]


MESSAGE_FIELDS = [
    "id", "channel", "contact", "to", "provider", "status", "source", "subject", "provider_message_id", "cost",
    "currency", "attempts_count", "failure_code", "failure_reason", "created_at", "sent_at", "delivered_at",
    "opened_at", "clicked_at", "replied_at", "failed_at",
]  # fmt: skip


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = MESSAGE_FIELDS
        read_only_fields = fields


class MessageDetailSerializer(serializers.ModelSerializer):
    attempts = DeliveryAttemptSerializer(many=True, read_only=True)
    events = MessageEventSerializer(many=True, read_only=True)

    class Meta:
        model = Message
        fields = [*MESSAGE_FIELDS, "text", "html", "headers", "template_name", "attempts", "events"]
        read_only_fields = fields


class SimulateSerializer(serializers.Serializer):
    event = serializers.ChoiceField(choices=SIMULATIONS)
    text = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Text of a simulated reply"
    )


class InboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = InboundMessage
        fields = ["id", "channel", "kind", "contact", "sender", "recipient", "external_id", "thread_id", "post_id",
                  "parent_id", "subject", "text", "html", "attachments", "headers", "in_reply_to_message",
                  "raw_event", "received_at"]  # fmt: skip
        read_only_fields = fields


class WebhookEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEvent
        fields = ["id", "provider", "kind", "received_at", "verification", "status", "attempts", "last_error",
                  "processed_at"]  # fmt: skip
        read_only_fields = fields


class ChannelStatusSerializer(serializers.Serializer):
    channel = serializers.CharField()
    label = serializers.CharField()
    provider = serializers.CharField()
    live = serializers.BooleanField(help_text="False: the sandbox answers (credentials missing)")
    manual_approval_only = serializers.BooleanField(help_text="Every message needs a human's approval (LinkedIn)")
