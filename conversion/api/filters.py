import django_filters

from conversion.models import Channel, ChannelPerformance, ConversionEvent, ConversionSource
from madansara.api.filters import DateTimeFilter, FilterSet, IdFilter


class ConversionFilter(FilterSet):
    type = django_filters.CharFilter(field_name="conversion_type__code")
    source = django_filters.ChoiceFilter(choices=ConversionSource.choices)
    occurred_after = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")
    occurred_before = DateTimeFilter(field_name="occurred_at", lookup_expr="lt")
    contact_id = IdFilter(field_name="contact_id")
    visitor_id = django_filters.CharFilter(field_name="visitor_id")

    class Meta:
        model = ConversionEvent
        fields = ["type", "source", "contact_id", "visitor_id"]


class ChannelPerformanceFilter(FilterSet):
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")
    channel = django_filters.MultipleChoiceFilter(choices=Channel.choices)
    campaign = django_filters.CharFilter(field_name="campaign")

    class Meta:
        model = ChannelPerformance
        fields = ["channel", "campaign"]
