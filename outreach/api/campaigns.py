"""Campaigns API: segments, templates, campaigns and steps; launch/pause/resume/cancel,
preview, test send and results."""

import django_filters
from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from abtesting.models import CAMPAIGN_ARM_SURFACES
from madansara.api.exceptions import Conflict
from madansara.api.filters import DateTimeFilter, FilterSet
from madansara.channels.services import message_create, message_send
from madansara.choices import Channel
from madansara.contacts.models import Contact
from outreach import selectors
from outreach.api import content
from outreach.api.content import TemplateVariantSerializer
from outreach.api.content import register as register_content
from outreach.models import (
    CampaignStatus,
    CampaignStep,
    ChannelTemplate,
    OutboxMessage,
    OutreachCampaign,
    Segment,
)
from outreach.models.campaigns import weekdays_error
from outreach.services import campaigns as services
from outreach.services.content import ContentError, message_render, variants_generate

OPERATE = ["outreach.operate_outreachcampaign"]


# --- serializers ------------------------------------------------------------------------------
class SegmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Segment
        fields = ["id", "name", "description", "is_static", "filters", "contacts", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"contacts": {"required": False}}


class ChannelTemplateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ChannelTemplate
        fields = [
            "id", "name", "channel", "subject", "html", "text", "whatsapp_template", "whatsapp_variables",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = ["created_at", "updated_at"]

    def validate(self, attrs):
        instance = ChannelTemplate(**{**(self._current() or {}), **attrs})
        instance.clean()  # DjangoValidationError → the project's 400 body
        return attrs

    def _current(self) -> dict | None:
        if self.instance is None:
            return None
        return {f: getattr(self.instance, f) for f in self.Meta.fields if f not in ("id", "created_at", "updated_at")}


class GenerateVariantsSerializer(serializers.Serializer):
    field = serializers.ChoiceField(choices=["subject", "text"])
    brief = serializers.CharField(max_length=4000, help_text="Brand voice, offer, audience")
    count = serializers.IntegerField(min_value=1, max_value=10, default=3)


class CampaignStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampaignStep
        fields = [
            "id", "campaign", "position", "kind", "channel", "templates", "fallback_channels", "wait_hours",
            "branch_on", "within_hours", "goto_position", "else_position",
        ]  # fmt: skip
        extra_kwargs = {"templates": {"required": False}}

    def validate_fallback_channels(self, value):
        unknown = [c for c in value if c not in Channel.values]
        if unknown:
            raise serializers.ValidationError(f"Unknown channels: {', '.join(unknown)}")
        return value

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", "send"))
        if kind == "send" and not attrs.get("channel", getattr(self.instance, "channel", "")):
            raise serializers.ValidationError({"channel": "A send step needs a channel (or auto)."})
        if kind == "branch" and not attrs.get("branch_on", getattr(self.instance, "branch_on", "")):
            raise serializers.ValidationError({"branch_on": "A branch step needs a condition."})
        campaign = attrs.get("campaign", getattr(self.instance, "campaign", None))
        if campaign is not None and campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.PAUSED):
            raise serializers.ValidationError("Steps can only change while the campaign is a draft or paused.")
        return attrs


class CampaignSerializer(serializers.ModelSerializer):
    steps = CampaignStepSerializer(many=True, read_only=True)
    send_weekdays = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=6),
        required=False,
        max_length=7,
        help_text="Local weekdays to send on, 0 = Monday … 6 = Sunday; empty: every day",
    )

    class Meta:
        model = OutreachCampaign
        fields = [
            "id", "name", "status", "segment", "recurring", "goal_conversion", "holdout_percent", "starts_at",
            "ends_at", "window_start_hour", "window_end_hour", "send_weekdays", "daily_volume_cap",
            "daily_spend_cap", "sto_enabled", "sto_control_percent", "links", "subject_test", "send_test", "steps",
            "created_at", "launched_at", "completed_at",
        ]  # fmt: skip
        read_only_fields = ["status", "created_at", "launched_at", "completed_at"]

    def validate_send_test(self, value):
        if value is not None and value.surface not in CAMPAIGN_ARM_SURFACES:
            raise serializers.ValidationError("A send experiment's surface is send_time or channel.")
        return value

    def validate_send_weekdays(self, value):
        error = weekdays_error(value)
        if error:
            raise serializers.ValidationError(error)
        return sorted(value)

    def validate(self, attrs):
        start = attrs.get("window_start_hour", getattr(self.instance, "window_start_hour", 9))
        end = attrs.get("window_end_hour", getattr(self.instance, "window_end_hour", 20))
        if start >= end:
            raise serializers.ValidationError({"window_end_hour": "The sending window must end after it starts."})
        return attrs


class PreviewSerializer(serializers.Serializer):
    step = serializers.IntegerField(help_text="Step position")
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)


class TestSendSerializer(PreviewSerializer):
    to = serializers.CharField(required=False, help_text="Send to this address instead of the contact's")


class RenderedSerializer(serializers.Serializer):
    channel = serializers.CharField()
    subject = serializers.CharField()
    html = serializers.CharField()
    text = serializers.CharField()
    template_name = serializers.CharField()
    template_variables = serializers.DictField()
    headers = serializers.DictField()


class TestSendResultSerializer(serializers.Serializer):
    message_id = serializers.UUIDField()
    status = serializers.CharField()


# --- filters --------------------------------------------------------------------------------
class CampaignFilter(FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")

    class Meta:
        model = OutreachCampaign
        fields = ["status", "segment", "recurring"]


class StepFilter(FilterSet):
    class Meta:
        model = CampaignStep
        fields = ["campaign", "kind", "channel"]


class TemplateFilter(FilterSet):
    class Meta:
        model = ChannelTemplate
        fields = ["channel"]


# --- views ------------------------------------------------------------------------------------
class SegmentViewSet(viewsets.ModelViewSet):
    domain = "outreach"
    queryset = Segment.objects.prefetch_related("contacts").order_by("name")
    serializer_class = SegmentSerializer
    search_fields = ["name"]


class ChannelTemplateViewSet(viewsets.ModelViewSet):
    domain = "outreach"
    queryset = ChannelTemplate.objects.order_by("name")
    serializer_class = ChannelTemplateSerializer
    filterset_class = TemplateFilter
    search_fields = ["name"]

    @extend_schema(request=GenerateVariantsSerializer, responses=TemplateVariantSerializer(many=True))
    @action(detail=True, methods=["post"])
    def variants(self, request, pk=None):
        """Draft variants (LLM or local fallback); they need approval before use."""
        data = GenerateVariantsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        drafts = variants_generate(
            template=self.get_object(),
            field_name=data.validated_data["field"],
            brief=data.validated_data["brief"],
            count=data.validated_data["count"],
        )
        return Response(TemplateVariantSerializer(drafts, many=True).data, status=201)


class CampaignStepViewSet(viewsets.ModelViewSet):
    domain = "outreach"
    queryset = CampaignStep.objects.prefetch_related("templates").order_by("campaign", "position")
    serializer_class = CampaignStepSerializer
    filterset_class = StepFilter


class CampaignViewSet(viewsets.ModelViewSet):
    """Campaigns: CRUD plus the domain verbs launch, pause, resume, cancel, preview, test send
    and results."""

    domain = "outreach"
    queryset = OutreachCampaign.objects.select_related("segment").prefetch_related("steps__templates")
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    search_fields = ["name"]
    ordering_fields = ["created_at", "name"]
    write_actions = ("launch", "pause", "resume", "cancel", "test_send", "preview", "copy_experiment")
    required_perms = {
        "launch": OPERATE, "pause": OPERATE, "resume": OPERATE, "cancel": OPERATE,
        "preview": ["outreach.view_outreachcampaign"], "test_send": OPERATE,
        "results": ["outreach.view_outreachcampaign"], "copy_experiment": OPERATE,
        "variant_results": ["outreach.view_outreachcampaign"],
    }  # fmt: skip

    def perform_destroy(self, instance):
        if instance.status not in (CampaignStatus.DRAFT, CampaignStatus.CANCELLED, CampaignStatus.COMPLETED):
            raise Conflict("Cancel a campaign before deleting it.")
        instance.delete()

    def _verb(self, request, service):
        campaign = service(campaign=self.get_object(), actor=request.user)
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def launch(self, request, pk=None):
        return self._verb(request, services.campaign_launch)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._verb(request, services.campaign_pause)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._verb(request, services.campaign_resume)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._verb(request, services.campaign_cancel)

    def _draft_row(self, request, serializer_class) -> tuple[OutboxMessage, dict]:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        campaign = self.get_object()
        step = campaign.steps.filter(position=data.validated_data["step"], kind="send").first()
        if step is None:
            raise serializers.ValidationError({"step": "No send step at this position."})
        channel = data.validated_data.get("channel") or (
            step.channel if step.channel != "auto" else step.templates.values_list("channel", flat=True).first()
        )
        row = OutboxMessage(campaign=campaign, step=step, contact=data.validated_data["contact"], channel=channel)
        row.pk = 0
        return row, data.validated_data

    @extend_schema(request=PreviewSerializer, responses=RenderedSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Render a send step for one contact (nothing is sent or stored)."""
        row, _ = self._draft_row(request, PreviewSerializer)
        try:
            rendered = message_render(row=row)
        except ContentError as exc:
            raise serializers.ValidationError({"step": str(exc)}) from exc
        return Response(RenderedSerializer(rendered).data)

    @extend_schema(request=TestSendSerializer, responses={201: TestSendResultSerializer, 400: OpenApiResponse()})
    @action(detail=True, methods=["post"], url_path="test-send")
    def test_send(self, request, pk=None):
        """Send a step's message now, rendered for a contact, to them or to `to` (source "test")."""
        row, data = self._draft_row(request, TestSendSerializer)
        try:
            rendered = message_render(row=row)
        except ContentError as exc:
            raise serializers.ValidationError({"step": str(exc)}) from exc
        with transaction.atomic():
            message = message_create(
                channel=row.channel,
                contact=row.contact,
                to=data.get("to", ""),
                source="test",
                subject=f"[TEST] {rendered.subject}" if rendered.subject else "",
                text=rendered.text,
                html=rendered.html,
                template_name=rendered.template_name,
                template_variables=rendered.template_variables,
                headers=rendered.headers,
            )
        message_send(message=message)
        message.refresh_from_db()
        return Response({"message_id": message.pk, "status": message.status}, status=201)

    @extend_schema(request=content.CopyExperimentSerializer, responses={201: content.CopyExperimentResultSerializer})
    @action(detail=True, methods=["post"], url_path="copy-experiment")
    def copy_experiment(self, request, pk=None):
        """Start a copy experiment: arms of approved variants against the templates as written."""
        return content.copy_experiment(self, request)

    @extend_schema(responses={200: OpenApiResponse(description="Sends and outcomes per step, channel and variant")})
    @action(detail=True, methods=["get"], url_path="variant-results")
    def variant_results(self, request, pk=None):
        return content.variant_results(self, request)

    @extend_schema(responses={200: OpenApiResponse(description="Results per step and channel, guards, lift, STO")})
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        return Response(selectors.campaign_results(campaign=self.get_object()))


def register(router) -> None:
    """Add the campaign endpoints to the outreach router."""
    router.register("segments", SegmentViewSet, basename="segment")
    router.register("channel-templates", ChannelTemplateViewSet, basename="channel-template")
    register_content(router)
    router.register("campaign-steps", CampaignStepViewSet, basename="campaign-step")
    router.register("campaigns", CampaignViewSet, basename="campaign")
