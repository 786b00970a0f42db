import django_filters

from social.models import (
    FunnelRun,
    PlatformInsight,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
    SocialPost,
)


class SocialPostFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="account__platform")
    published_after = django_filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="gte")
    published_before = django_filters.IsoDateTimeFilter(field_name="published_at", lookup_expr="lt")
    deleted = django_filters.BooleanFilter(field_name="deleted_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = SocialPost
        fields = ["account"]


class SocialCommentFilter(django_filters.FilterSet):
    platform = django_filters.CharFilter(field_name="account__platform")
    since = django_filters.IsoDateTimeFilter(field_name="commented_at", lookup_expr="gte")

    class Meta:
        model = SocialComment
        fields = ["account", "post", "status", "kind", "intent", "sentiment", "contact"]


class FunnelRunFilter(django_filters.FilterSet):
    class Meta:
        model = FunnelRun
        fields = ["funnel", "contact", "status"]


class SocialAdvocateFilter(django_filters.FilterSet):
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")

    class Meta:
        model = SocialAdvocate
        fields = ["tier", "review_status"]


class PlatformInsightFilter(django_filters.FilterSet):
    since = django_filters.DateFilter(field_name="day", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="day", lookup_expr="lte")

    class Meta:
        model = PlatformInsight
        fields = ["account"]


class SocialEngagementFilter(django_filters.FilterSet):
    since = django_filters.IsoDateTimeFilter(field_name="occurred_at", lookup_expr="gte")

    class Meta:
        model = SocialEngagement
        fields = ["platform", "kind", "contact", "post", "sentiment"]
