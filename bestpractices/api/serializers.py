from rest_framework import serializers

from bestpractices.models import BestPractice, CampaignChange, DraftEditPattern, ProposedTest, Recommendation


class BestPracticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = BestPractice
        fields = [
            "id", "feature", "value", "baseline", "outcome", "version", "is_current", "status", "status_reason",
            "lift", "ci_low", "ci_high", "n", "significant", "p_value", "evidence", "run", "experiment", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class PracticeRecommendationSerializer(serializers.ModelSerializer):
    practice = BestPracticeSerializer(read_only=True)
    experiment = serializers.SlugRelatedField(slug_field="key", read_only=True)

    class Meta:
        model = Recommendation
        fields = [
            "id",
            "title",
            "status",
            "template",
            "campaign",
            "expected_lift",
            "change",
            "practice",
            "experiment",
            "created_at",
        ]
        read_only_fields = fields


class CampaignChangeSerializer(serializers.ModelSerializer):
    title = serializers.CharField(source="recommendation.title", read_only=True)

    class Meta:
        model = CampaignChange
        fields = [
            "id", "recommendation", "title", "campaign", "field", "before", "after", "status", "created_by",
            "decided_by", "decided_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProposedTestSerializer(serializers.ModelSerializer):
    recommendation = PracticeRecommendationSerializer(read_only=True)

    class Meta:
        model = ProposedTest
        fields = [
            "id", "recommendation", "week", "surface", "audience", "reach", "uncertainty", "expected_value",
            "status", "decided_by", "decided_at", "created_at",
        ]  # fmt: skip
        read_only_fields = fields


class DraftEditPatternSerializer(serializers.ModelSerializer):
    class Meta:
        model = DraftEditPattern
        fields = [
            "id", "intent", "channel", "language", "drafts", "edited", "rejected", "length_ratio",
            "suggested_max_length", "wrong_language", "removed_phrases", "added_phrases", "notes", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class ProposalApproveSerializer(serializers.Serializer):
    start = serializers.BooleanField(default=False, help_text="Start the experiment right away")


class ExperimentRefSerializer(serializers.Serializer):
    experiment = serializers.CharField(help_text="Key of the draft experiment")


class PredictionRequestSerializer(serializers.Serializer):
    channel = serializers.CharField(max_length=16)
    subject = serializers.CharField(allow_blank=True, default="", max_length=998)
    body = serializers.CharField(allow_blank=True, default="", max_length=100_000)
    segment = serializers.IntegerField(required=False, help_text="Predict over this segment's contacts")


class PredictionSerializer(serializers.Serializer):
    p = serializers.DictField(child=serializers.FloatField(), allow_null=True, help_text="{outcome: probability}")
    run = serializers.IntegerField(allow_null=True, help_text="The pattern run whose model predicted")


class PersonaliseRequestSerializer(serializers.Serializer):
    holdout_percent = serializers.IntegerField(min_value=1, max_value=50, default=10)


class PersonaliseCountsSerializer(serializers.Serializer):
    personalised = serializers.IntegerField()
    holdout = serializers.IntegerField()


class PersonalisedResultSerializer(serializers.Serializer):
    personalised = serializers.DictField()
    holdout = serializers.DictField()
    lift = serializers.FloatField(required=False)
    ci_low = serializers.FloatField(required=False)
    ci_high = serializers.FloatField(required=False)
