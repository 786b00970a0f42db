import django_filters

from madansara.api.filters import BooleanFilter, DateTimeFilter, FilterSet
from social.models import (
    FunnelRun,
    PlatformInsight,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
    SocialPost,
)


class SocialPostFilter(FilterSet):
    platform = django_filters.CharFilter(field_name="account__platform")
    published_after = DateTimeFilter(field_name="published_at", lookup_expr="gte")
    published_before = DateTimeFilter(field_name="published_at", lookup_expr="lt")
    deleted = BooleanFilter(field_name="deleted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = SocialPost
        fields = ["account"]


class SocialCommentFilter(FilterSet):
    platform = django_filters.CharFilter(field_name="account__platform")
    since = DateTimeFilter(field_name="commented_at", lookup_expr="gte")

    class Meta:
        model = SocialComment
        fields = ["account", "post", "status", "kind", "intent", "sentiment", "contact"]


class FunnelRunFilter(FilterSet):
    class Meta:
        model = FunnelRun
        fields = ["funnel", "contact", "status"]


class SocialAdvocateFilter(FilterSet):
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = SocialAdvocate
        fields = ["tier", "review_status"]


class PlatformInsightFilter(FilterSet):
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = PlatformInsight
        fields = ["account"]


class SocialEngagementFilter(FilterSet):
    since = DateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = SocialEngagement
        fields = ["platform", "kind", "contact", "post", "sentiment"]
