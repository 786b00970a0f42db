import django_filters

from inbox.models import Conversation, ConversationStatus, ReplyDraft
from inbox.selectors import conversations_search, sla_q
from madansara.api.filters import BooleanFilter, FilterSet, IdFilter
from madansara.choices import Channel


class ConversationFilter(FilterSet):
    status = django_filters.ChoiceFilter(choices=ConversationStatus.choices)
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    assignee = IdFilter(field_name="assignee_id")
    unassigned = BooleanFilter(field_name="assignee", lookup_expr="isnull")
    team = IdFilter(field_name="team_id")
    label = django_filters.CharFilter(field_name="labels__name")
    intent = django_filters.CharFilter(field_name="latest_intent")
    sentiment = django_filters.CharFilter(field_name="latest_sentiment")
    sla = django_filters.ChoiceFilter(choices=[("at_risk", "At risk"), ("breached", "Breached")], method="filter_sla")
    search = django_filters.CharFilter(method="filter_search", label="Full-text search")

    class Meta:
        model = Conversation
        fields = [
            "status",
            "channel",
            "assignee",
            "unassigned",
            "team",
            "label",
            "intent",
            "sentiment",
            "sla",
            "search",
        ]

    def filter_sla(self, queryset, name, value):
        return queryset.filter(sla_q(value))

    def filter_search(self, queryset, name, value):
        return conversations_search(queryset=queryset, text=value)


class DraftFilter(FilterSet):
    class Meta:
        model = ReplyDraft
        fields = ["status", "intent", "low_risk"]
