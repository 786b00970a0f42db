from rest_framework import serializers

from inbox.models import Conversation, ConversationMessage, ConversationStatus, InternalNote, ReplyDraft


class ConversationListSerializer(serializers.ModelSerializer):
    assignee = serializers.CharField(source="assignee.username", default=None, read_only=True, allow_null=True)
    sla_state = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = [
            "id",
            "channel",
            "participant",
            "subject",
            "status",
            "priority",
            "assignee",
            "team",
            "latest_intent",
            "latest_sentiment",
            "last_message_at",
            "snoozed_until",
            "sla_state",
            "first_response_due",
            "next_response_due",
            "resolution_due",
            "sla_breached",
        ]

    def get_sla_state(self, obj) -> str:
        return obj.sla_state()


class EntrySerializer(serializers.ModelSerializer):
    text = serializers.SerializerMethodField()
    subject = serializers.SerializerMethodField()
    delivery_status = serializers.SerializerMethodField()

    class Meta:
        model = ConversationMessage
        fields = ["id", "direction", "created_at", "subject", "text", "delivery_status", "auto_sent", "author"]

    def _source(self, obj):
        return obj.inbound if obj.inbound_id else obj.outbound

    def get_text(self, obj) -> str:
        return self._source(obj).text

    def get_subject(self, obj) -> str:
        return self._source(obj).subject

    def get_delivery_status(self, obj) -> str:
        return obj.outbound.status if obj.outbound_id else "received"


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = InternalNote
        fields = ["id", "text", "author", "created_at"]
        read_only_fields = ["author", "created_at"]


class ConversationDetailSerializer(ConversationListSerializer):
    messages = EntrySerializer(source="entries", many=True, read_only=True)
    notes = NoteSerializer(many=True, read_only=True)
    labels = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta(ConversationListSerializer.Meta):
        fields = ConversationListSerializer.Meta.fields + ["labels", "messages", "notes"]


class DraftSerializer(serializers.ModelSerializer):
    customer_text = serializers.CharField(source="inbound.text", read_only=True)
    channel = serializers.CharField(source="conversation.channel", read_only=True)

    class Meta:
        model = ReplyDraft
        fields = [
            "id",
            "conversation",
            "channel",
            "status",
            "source",
            "intent",
            "confidence",
            "low_risk",
            "sla_due_at",
            "customer_text",
            "subject",
            "text",
            "sent_text",
            "rejection_reason",
            "created_at",
        ]
        read_only_fields = fields


class AssignSerializer(serializers.Serializer):
    assignee = serializers.IntegerField(allow_null=True)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ConversationStatus.choices)
    snoozed_until = serializers.DateTimeField(required=False, allow_null=True)


class ReplySerializer(serializers.Serializer):
    text = serializers.CharField()


class EditSerializer(serializers.Serializer):
    text = serializers.CharField()


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


class SLACountsSerializer(serializers.Serializer):
    at_risk = serializers.IntegerField()
    breached = serializers.IntegerField()


class ReplyReportSerializer(serializers.Serializer):
    human_sent = serializers.IntegerField()
    auto_sent = serializers.IntegerField()
    rejected = serializers.IntegerField()
    pending = serializers.IntegerField()
    human_replies_within_sla = serializers.IntegerField()
    auto_replies_within_sla = serializers.IntegerField()


class LabelsSerializer(serializers.Serializer):
    labels = serializers.ListField(child=serializers.CharField(max_length=60), allow_empty=False)
