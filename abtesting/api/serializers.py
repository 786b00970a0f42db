from rest_framework import serializers

from abtesting.models import ABTest, ABTestDecision, ABTestSnapshot, ABTestVariant
from madansara.contacts.models import Contact


class VariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = ABTestVariant
        fields = ["key", "name", "is_control", "weight", "content"]
        # uniqueness per test is checked in ABTestSerializer.validate_variants
        extra_kwargs = {"key": {"validators": []}, "weight": {"min_value": 0}}  # the table's check constraint


class ABTestSerializer(serializers.ModelSerializer):
    variants = VariantSerializer(many=True)
    winner = serializers.SlugRelatedField(slug_field="key", read_only=True, allow_null=True)

    class Meta:
        model = ABTest
        fields = [
            "id", "key", "name", "hypothesis", "surface", "status", "primary_metric",
            "secondary_metrics", "guardrail_metrics", "mean_metrics", "site", "segment",
            "url_pattern", "channel", "mode", "alpha", "sequential_tuning", "auto_rollout",
            "rollout_hold", "min_units_per_arm", "min_runtime_days", "winner", "variants",
            "started_at", "stopped_at", "rolled_out_at", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = [
            "status", "rollout_hold", "winner", "started_at", "stopped_at", "rolled_out_at",
            "created_at", "updated_at",
        ]  # fmt: skip

    def validate_variants(self, variants):
        keys = [v["key"] for v in variants]
        if len(variants) < 2:
            raise serializers.ValidationError("A test needs at least two variants.")
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Variant keys must be unique.")
        if sum(bool(v.get("is_control")) for v in variants) != 1:
            raise serializers.ValidationError("Exactly one variant must be the control.")
        return variants

    def validate(self, attrs):
        for name in ("secondary_metrics", "guardrail_metrics", "mean_metrics"):
            value = attrs.get(name)
            if value is not None and not (isinstance(value, list) and all(isinstance(m, str) for m in value)):
                raise serializers.ValidationError({name: "Must be a list of metric names."})
        return attrs


class RolloutSerializer(serializers.Serializer):
    variant = serializers.SlugField(help_text="Key of the winning variant")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = ABTestSnapshot
        fields = ["computed_at", "srm_p_value", "has_srm", "results"]


class DecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ABTestDecision
        fields = ["created_at", "action", "actor_label", "automatic", "reason", "data"]


class AssignmentsSerializer(serializers.Serializer):
    assignments = serializers.DictField(child=serializers.CharField(), help_text="test key → variant key")


class AssignmentQuerySerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=128)
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all(), required=False)
    url = serializers.CharField(required=False, max_length=2000)
    channel = serializers.CharField(required=False, max_length=16)


class PublicAssignmentQuerySerializer(serializers.Serializer):
    site_key = serializers.CharField(max_length=64)
    unit = serializers.CharField(max_length=128)
    url = serializers.CharField(required=False, max_length=2000)


class SampleSizeQuerySerializer(serializers.Serializer):
    baseline = serializers.FloatField(min_value=0, max_value=1, help_text="Baseline conversion rate, e.g. 0.05")
    mde = serializers.FloatField(required=False, help_text="Relative minimum detectable effect, e.g. 0.1")
    n = serializers.IntegerField(required=False, min_value=2, help_text="Units per arm (to get the MDE)")
    alpha = serializers.FloatField(default=0.05, min_value=0.0001, max_value=0.5)
    power = serializers.FloatField(default=0.8, min_value=0.05, max_value=0.9999)

    def validate(self, attrs):
        if (attrs.get("mde") is None) == (attrs.get("n") is None):
            raise serializers.ValidationError("Give either mde (to get n) or n (to get the mde).")
        return attrs


class SampleSizeSerializer(serializers.Serializer):
    baseline = serializers.FloatField()
    alpha = serializers.FloatField()
    power = serializers.FloatField()
    mde = serializers.FloatField(allow_null=True)
    n_per_arm = serializers.IntegerField(allow_null=True)
