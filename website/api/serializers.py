from datetime import timedelta

from django.utils import timezone
from rest_framework import serializers

from website.funnels import validate_breakdown
from website.ingest.endpoint import snippet
from website.models import (
    FunnelAnalytics,
    FunnelDefinition,
    OptimizationRecommendation,
    Site,
    WebsiteSession,
    validate_funnel_steps,
)


class SiteSerializer(serializers.ModelSerializer):
    snippet = serializers.SerializerMethodField(help_text="The <script> tag to paste into the site's pages")

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "domain",
            "public_key",
            "allowed_origins",
            "respect_dnt",
            "cookieless",
            "is_active",
            "snippet",
        ]
        read_only_fields = ["public_key"]

    def get_snippet(self, site) -> str:
        from django.conf import settings

        return snippet(site, settings.PUBLIC_BASE_URL)


class SessionSerializer(serializers.ModelSerializer):
    duration_seconds = serializers.IntegerField(read_only=True)

    class Meta:
        model = WebsiteSession
        fields = [
            "id", "site", "session_key", "visitor", "contact", "started_at", "ended_at", "duration_seconds",
            "pageviews", "events", "entry_path", "exit_path", "referrer", "source", "medium", "campaign",
            "traffic_class", "device", "browser", "os", "is_returning", "customer_type",
        ]  # fmt: skip


class RangeQuerySerializer(serializers.Serializer):
    site = serializers.PrimaryKeyRelatedField(queryset=Site.objects.all())
    start = serializers.DateTimeField(required=False, help_text="Default: 30 days ago")
    end = serializers.DateTimeField(required=False, help_text="Default: now")

    def validate(self, attrs):
        attrs.setdefault("end", timezone.now())
        attrs.setdefault("start", attrs["end"] - timedelta(days=30))
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"start": "start must be before end."})
        if attrs["end"] - attrs["start"] > timedelta(days=400):
            raise serializers.ValidationError({"start": "At most 400 days at a time."})
        return attrs


class TimeSeriesQuerySerializer(RangeQuerySerializer):
    interval = serializers.ChoiceField(choices=["hour", "day", "week"], default="day")
    source = serializers.CharField(required=False, default="", help_text="Traffic class, e.g. organic_search")
    device = serializers.CharField(required=False, default="")
    path = serializers.CharField(required=False, default="")
    conversion_event = serializers.CharField(required=False, default="conversion")

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["interval"] == "hour" and attrs["end"] - attrs["start"] > timedelta(days=14):
            raise serializers.ValidationError({"interval": "Hourly series cover at most 14 days."})
        return attrs


class TimeSeriesPointSerializer(serializers.Serializer):
    bucket = serializers.DateTimeField()
    visitors = serializers.IntegerField()
    sessions = serializers.IntegerField()
    pageviews = serializers.IntegerField()
    events = serializers.IntegerField()
    conversions = serializers.IntegerField()


class PageSerializer(serializers.Serializer):
    path = serializers.CharField()
    pageviews = serializers.IntegerField()
    visitors = serializers.IntegerField()
    entries = serializers.IntegerField()
    exits = serializers.IntegerField()
    exit_rate = serializers.FloatField()


class SourcesQuerySerializer(RangeQuerySerializer):
    group_by = serializers.ChoiceField(
        choices=["traffic_class", "source", "medium", "campaign"], default="traffic_class"
    )


class SourceSerializer(serializers.Serializer):
    value = serializers.CharField()
    sessions = serializers.IntegerField()
    visitors = serializers.IntegerField()


class FunnelSerializer(serializers.ModelSerializer):
    class Meta:
        model = FunnelDefinition
        fields = ["id", "site", "name", "steps", "order_mode", "window_days", "is_active", "created_at"]
        read_only_fields = ["created_at"]

    def validate_steps(self, value):
        from django.core.exceptions import ValidationError

        try:
            validate_funnel_steps(value)
        except ValidationError as exc:
            raise serializers.ValidationError(exc.messages) from exc
        return value


class FunnelQuerySerializer(serializers.Serializer):
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)
    breakdown = serializers.CharField(
        required=False, default="", help_text="device, browser, source, customer_type, visitor_type or variant:<key>"
    )

    def validate_breakdown(self, value):
        try:
            return validate_breakdown(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs):
        attrs.setdefault("end", timezone.now())
        attrs.setdefault("start", attrs["end"] - timedelta(days=30))
        if attrs["start"] >= attrs["end"]:
            raise serializers.ValidationError({"start": "start must be before end."})
        return attrs


class FunnelStepResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    conversion = serializers.FloatField()
    conversion_from_previous = serializers.FloatField()
    dropped = serializers.IntegerField()
    median_seconds_from_previous = serializers.FloatField(allow_null=True)


class DroppedPersonSerializer(serializers.Serializer):
    person = serializers.CharField()
    visitor_id = serializers.CharField()
    contact_id = serializers.IntegerField(allow_null=True)


class FunnelResultSerializer(serializers.Serializer):
    steps = FunnelStepResultSerializer(many=True)
    dropped = serializers.ListField(
        child=DroppedPersonSerializer(many=True), help_text="Per step (but the last), up to 1000"
    )
    breakdown = serializers.DictField(child=serializers.ListField(child=serializers.IntegerField()))


class SaveSegmentSerializer(serializers.Serializer):
    step = serializers.IntegerField(min_value=0, help_text="0-based step after which visitors dropped")
    tag = serializers.CharField(max_length=100, help_text="Name of the segment (contact tag) to create or extend")
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)


class SavedSegmentSerializer(serializers.Serializer):
    tag_id = serializers.IntegerField()
    tag = serializers.CharField()
    contacts = serializers.IntegerField()


class FunnelSnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = FunnelAnalytics
        fields = ["id", "funnel", "day", "entered", "converted", "result", "computed_at"]


class RecommendationSerializer(serializers.ModelSerializer):
    class Meta:
        model = OptimizationRecommendation
        fields = [
            "id", "site", "funnel", "kind", "title", "evidence", "proposed_test", "impact_score", "status",
            "experiment_ref", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class CreatedTestSerializer(serializers.Serializer):
    recommendation = RecommendationSerializer()
    experiment_key = serializers.CharField()
