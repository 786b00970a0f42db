import django_filters

from madansara.channels.models import InboundMessage, Message, WebhookEvent


class MessageFilter(django_filters.FilterSet):
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = Message
        fields = ["channel", "status", "provider", "source", "contact"]


class InboundMessageFilter(django_filters.FilterSet):
    received_after = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="gte")
    received_before = django_filters.IsoDateTimeFilter(field_name="received_at", lookup_expr="lt")

    class Meta:
        model = InboundMessage
        fields = ["channel", "kind", "contact", "thread_id", "post_id", "in_reply_to_message"]


class WebhookEventFilter(django_filters.FilterSet):
    class Meta:
        model = WebhookEvent
        fields = ["provider", "kind", "status"]
