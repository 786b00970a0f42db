from madansara.api.filters import DateTimeFilter, FilterSet
from madansara.channels.models import InboundMessage, Message, WebhookEvent


class MessageFilter(FilterSet):
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Message
        fields = ["channel", "status", "provider", "source", "contact"]


class InboundMessageFilter(FilterSet):
    received_after = DateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = DateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = InboundMessage
        fields = ["channel", "kind", "contact", "thread_id", "post_id", "in_reply_to_message"]


class WebhookEventFilter(FilterSet):
    class Meta:
        model = WebhookEvent
        fields = ["provider", "kind", "status"]
