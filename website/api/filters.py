import django_filters

from website.models import FunnelDefinition, OptimizationRecommendation, WebsiteSession


class SessionFilter(django_filters.FilterSet):
    started_after = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = django_filters.IsoDateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = WebsiteSession
        fields = ["site", "traffic_class", "device", "customer_type", "is_returning", "contact", "campaign"]


class FunnelFilter(django_filters.FilterSet):
    class Meta:
        model = FunnelDefinition
        fields = ["site", "order_mode", "is_active"]


class RecommendationFilter(django_filters.FilterSet):
    class Meta:
        model = OptimizationRecommendation
        fields = ["site", "funnel", "kind", "status"]
