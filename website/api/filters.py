from madansara.api.filters import DateTimeFilter, FilterSet
from website.models import FunnelDefinition, OptimizationRecommendation, WebsiteSession


class SessionFilter(FilterSet):
    started_after = DateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = DateTimeFilter(field_name="started_at", lookup_expr="lt")

    class Meta:
        model = WebsiteSession
        fields = ["site", "traffic_class", "device", "customer_type", "is_returning", "contact", "campaign"]


class FunnelFilter(FilterSet):
    class Meta:
        model = FunnelDefinition
        fields = ["site", "order_mode", "is_active"]


class RecommendationFilter(FilterSet):
    class Meta:
        model = OptimizationRecommendation
        fields = ["site", "funnel", "kind", "status"]
