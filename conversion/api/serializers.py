from rest_framework import serializers

from conversion.models import (
    AttributionModel,
    ChannelPerformance,
    ConversionEvent,
    CustomerTouchpoint,
    JourneyTouch,
)
from madansara.contacts.models import Contact


class ConversionCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(max_length=255, help_text="Your id: the same id is never counted twice")
    type = serializers.SlugField(max_length=50, help_text="Conversion type code, e.g. signup, demo_booked, purchase")
    value = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, default=0)
    currency = serializers.RegexField(r"^[A-Za-z]{3}$", default="USD")
    contact_id = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False, allow_null=True)
    visitor_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField()

    def validate(self, attrs):
        if not attrs.get("contact_id") and not attrs.get("visitor_id"):
            raise serializers.ValidationError({"contact_id": "A contact or an anonymous visitor_id is required."})
        return attrs


class JourneyTouchSerializer(serializers.ModelSerializer):
    class Meta:
        model = JourneyTouch
        fields = ["position", "channel", "campaign", "occurred_at", "age_days", "touchpoint_id"]


class ConversionSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="conversion_type.code")
    journey = JourneyTouchSerializer(many=True, read_only=True)

    class Meta:
        model = ConversionEvent
        fields = [
            "id", "external_id", "type", "value", "currency", "contact_id", "visitor_id", "occurred_at",
            "source", "recorded_at", "attributed_at", "journey",
        ]  # fmt: skip
        read_only_fields = fields


class ConversionStatSerializer(serializers.Serializer):
    period = serializers.DateField()
    type = serializers.CharField(source="conversion_type__code")
    currency = serializers.CharField()
    conversions = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=18, decimal_places=2)


class StatsQuerySerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    interval = serializers.ChoiceField(choices=["day", "week", "month"], default="day")
    type = serializers.SlugField(required=False)

    def validate(self, attrs):
        if attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": "Must not be after until."})
        return attrs


class AttributionQuerySerializer(StatsQuerySerializer):
    interval = None
    type = None
    by = serializers.ChoiceField(choices=["conversions", "value"], default="conversions")


class AttributionComparisonSerializer(serializers.Serializer):
    by = serializers.ChoiceField(choices=["conversions", "value"])
    models = serializers.ListField(child=serializers.ChoiceField(choices=AttributionModel.choices))
    channels = serializers.DictField(
        child=serializers.DictField(child=serializers.FloatField()), help_text="channel → model → credit"
    )
    totals = serializers.DictField(child=serializers.FloatField(), help_text="model → total credit")


class ChannelPerformanceSerializer(serializers.ModelSerializer):
    roi = serializers.SerializerMethodField(help_text="model → (attributed value − cost) / cost; null without cost")
    cost_per_acquisition = serializers.SerializerMethodField(help_text="model → cost / attributed conversions")

    class Meta:
        model = ChannelPerformance
        fields = [
            "day", "channel", "campaign", "sent", "delivered", "engaged", "replies", "sessions", "cost",
            "attributed_conversions", "attributed_revenue", "roi", "cost_per_acquisition", "refreshed_at",
        ]  # fmt: skip
        read_only_fields = fields

    def _per_model(self, compute) -> dict[str, str | None]:
        result = {}
        for model in AttributionModel.values:
            value = compute(model)
            result[model] = None if value is None else str(round(value, 4))
        return result

    def get_roi(self, obj) -> dict[str, str | None]:
        return self._per_model(obj.roi)

    def get_cost_per_acquisition(self, obj) -> dict[str, str | None]:
        return self._per_model(obj.cost_per_acquisition)


class TouchpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = CustomerTouchpoint
        fields = [
            "id", "channel", "kind", "occurred_at", "campaign", "utm_source", "utm_medium", "source", "visitor_id",
        ]  # fmt: skip


class ContactJourneySerializer(serializers.Serializer):
    contact_id = serializers.IntegerField()
    touchpoints = TouchpointSerializer(many=True)
    conversions = ConversionSerializer(many=True)


class SeriesQuerySerializer(serializers.Serializer):
    since = serializers.DateField()
    until = serializers.DateField()
    model = serializers.ChoiceField(choices=AttributionModel.choices, default=AttributionModel.MARKOV)
    channel = serializers.CharField(required=False)

    def validate(self, attrs):
        if attrs["since"] > attrs["until"]:
            raise serializers.ValidationError({"since": "Must not be after until."})
        return attrs


class PerformancePointSerializer(serializers.Serializer):
    day = serializers.DateField()
    channel = serializers.CharField()
    cost = serializers.DecimalField(max_digits=16, decimal_places=2)
    revenue = serializers.DecimalField(max_digits=18, decimal_places=2, help_text="Attributed under the model")
    conversions = serializers.FloatField(help_text="Attributed under the model")
    roi = serializers.DecimalField(max_digits=18, decimal_places=4, allow_null=True, help_text="null without cost")
