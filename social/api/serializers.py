from django.db import transaction
from rest_framework import serializers

from madansara.templating import template_validate
from social.models import (
    FunnelRun,
    FunnelStep,
    PlatformInsight,
    SocialAccount,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
    SocialEngagementFunnel,
    SocialPost,
)


class SocialAccountSerializer(serializers.ModelSerializer):
    access_token = serializers.CharField(
        write_only=True, required=False, allow_blank=True, style={"input_type": "password"}, max_length=1000
    )
    has_own_token = serializers.BooleanField(read_only=True)

    class Meta:
        model = SocialAccount
        fields = [
            "id",
            "platform",
            "name",
            "external_id",
            "handle",
            "access_token",
            "has_own_token",
            "is_active",
            "auto_send_allowed",
            "max_replies_per_hour",
            "min_seconds_between_replies",
            "followers",
            "last_synced_at",
            "retry_after_until",
            "created_at",
        ]
        read_only_fields = ["followers", "last_synced_at", "retry_after_until", "created_at"]


class SocialPostSerializer(serializers.ModelSerializer):
    account = serializers.PrimaryKeyRelatedField(read_only=True)
    platform = serializers.CharField(source="account.platform", read_only=True)
    engagements = serializers.IntegerField(source="engagement_total", read_only=True)
    engagement_rate = serializers.FloatField(read_only=True)
    is_deleted = serializers.BooleanField(read_only=True)

    class Meta:
        model = SocialPost
        fields = [
            "id",
            "account",
            "platform",
            "external_id",
            "url",
            "text",
            "media_type",
            "published_at",
            "likes",
            "comments_count",
            "shares",
            "saves",
            "impressions",
            "reach",
            "engagements",
            "engagement_rate",
            "metrics_updated_at",
            "is_deleted",
            "deleted_at",
        ]


class SocialCommentSerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialComment
        fields = [
            "id",
            "account",
            "post",
            "kind",
            "external_id",
            "parent_external_id",
            "author_handle",
            "contact",
            "text",
            "commented_at",
            "intent",
            "sentiment",
            "status",
            "rule",
            "draft_text",
            "draft_source",
            "approved_by",
            "approved_at",
            "reply_external_id",
            "replied_at",
            "hidden_at",
            "last_error",
        ]
        read_only_fields = fields


class ApproveSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, max_length=2000, help_text="Edited reply; default: the draft")


class FunnelStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = FunnelStep
        fields = ["position", "action", "text", "link", "campaign_tag"]

    def validate_text(self, value):
        errors = template_validate(channel="", fields={"text": value}, allowed_variables=FunnelStep.TEMPLATE_VARIABLES)
        if errors:
            raise serializers.ValidationError(errors)
        return value


class SocialEngagementFunnelSerializer(serializers.ModelSerializer):
    steps = FunnelStepSerializer(many=True)
    triggered = serializers.IntegerField(read_only=True, default=0)
    dm_sent = serializers.IntegerField(read_only=True, default=0)
    replied = serializers.IntegerField(read_only=True, default=0)
    converted = serializers.IntegerField(read_only=True, default=0)

    class Meta:
        model = SocialEngagementFunnel
        fields = [
            "id",
            "account",
            "name",
            "is_active",
            "trigger",
            "post",
            "keywords",
            "steps",
            "triggered",
            "dm_sent",
            "replied",
            "converted",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def validate_keywords(self, value):
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise serializers.ValidationError("A list of non-empty words.")
        return [v.strip() for v in value]

    def validate_steps(self, value):
        positions = [step["position"] for step in value]
        if len(set(positions)) != len(positions):
            raise serializers.ValidationError("Step positions must be unique.")
        return value

    def validate(self, attrs):
        trigger = attrs.get("trigger", getattr(self.instance, "trigger", "comment_keyword"))
        keywords = attrs.get("keywords", getattr(self.instance, "keywords", []))
        if trigger == "comment_keyword" and not keywords:
            raise serializers.ValidationError({"keywords": "A keyword trigger needs at least one keyword."})
        post = attrs.get("post")
        account = attrs.get("account") or getattr(self.instance, "account", None)
        if post is not None and account is not None and post.account_id != account.pk:
            raise serializers.ValidationError({"post": "The post belongs to another account."})
        return attrs

    @transaction.atomic
    def create(self, validated_data):
        steps = validated_data.pop("steps")
        funnel = SocialEngagementFunnel.objects.create(**validated_data)
        FunnelStep.objects.bulk_create([FunnelStep(funnel=funnel, **step) for step in steps])
        return funnel

    @transaction.atomic
    def update(self, instance, validated_data):
        steps = validated_data.pop("steps", None)
        for name, value in validated_data.items():
            setattr(instance, name, value)
        instance.save()
        if steps is not None:
            instance.steps.all().delete()
            FunnelStep.objects.bulk_create([FunnelStep(funnel=instance, **step) for step in steps])
        return instance


class FunnelRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = FunnelRun
        fields = [
            "id",
            "funnel",
            "contact",
            "comment",
            "status",
            "position",
            "email",
            "started_at",
            "dm_sent_at",
            "replied_at",
            "converted_at",
            "finished_at",
            "last_error",
        ]
        read_only_fields = fields


class SocialAdvocateSerializer(serializers.ModelSerializer):
    contact_name = serializers.CharField(source="contact.name", read_only=True)

    class Meta:
        model = SocialAdvocate
        fields = [
            "id",
            "contact",
            "contact_name",
            "score",
            "tier",
            "positive_comments",
            "shares",
            "mentions",
            "reach",
            "last_engaged_at",
            "review_status",
            "enrolled_at",
        ]
        read_only_fields = fields


class EnrolSerializer(serializers.Serializer):
    tag = serializers.CharField(required=False, max_length=100, help_text="Campaign tag; default from settings")


class PlatformInsightSerializer(serializers.ModelSerializer):
    engagement_rate = serializers.FloatField(read_only=True)

    class Meta:
        model = PlatformInsight
        fields = ["id", "account", "day", "reach", "impressions", "followers", "engagements", "engagement_rate"]
        read_only_fields = fields


class SocialEngagementSerializer(serializers.ModelSerializer):
    class Meta:
        model = SocialEngagement
        fields = [
            "id",
            "platform",
            "account",
            "post",
            "contact",
            "kind",
            "external_id",
            "author_handle",
            "author_followers",
            "sentiment",
            "occurred_at",
        ]
        read_only_fields = fields
