"""Content API: newsletter drafts from a brief, variants (edit, check, preview per contact,
approve, reject), copy experiments and results per variant of a campaign."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from madansara.api.filters import FilterSet
from madansara.contacts.models import Contact
from outreach import selectors
from outreach.models import ChannelTemplate, ContentDraft, OutreachCampaign, Segment, TemplateVariant
from outreach.services.composer import content_draft_compose
from outreach.services.content import ContentError
from outreach.services.copy import (
    content_draft_approve,
    content_draft_reject,
    copy_experiment_start,
    variant_approve,
    variant_check,
    variant_preview,
    variant_reject,
    variant_update,
)

APPROVE = ["outreach.approve_templatevariant"]
OPERATE = ["outreach.operate_outreachcampaign"]


class TemplateVariantSerializer(serializers.ModelSerializer):
    class Meta:
        model = TemplateVariant
        fields = [
            "id", "template", "field", "content", "subject", "preview", "body", "html", "cta_label", "cta_link",
            "whatsapp_template", "language", "draft", "checks", "status", "source", "brief", "review_note",
            "approved_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["template", "field", "language", "draft", "checks", "status", "source", "brief",
                            "review_note", "approved_at", "created_at"]  # fmt: skip


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VariantPreviewSerializer(serializers.Serializer):
    contact = serializers.PrimaryKeyRelatedField(queryset=Contact.objects.all())
    campaign = serializers.PrimaryKeyRelatedField(queryset=OutreachCampaign.objects.all(), required=False)


class PreviewResultSerializer(serializers.Serializer):
    channel = serializers.CharField()
    subject = serializers.CharField()
    html = serializers.CharField()
    text = serializers.CharField()
    template_name = serializers.CharField()
    template_variables = serializers.DictField()


class SourceSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300, allow_blank=True, default="")
    text = serializers.CharField(max_length=20000, allow_blank=True, default="")
    link = serializers.URLField(required=False, allow_blank=True, default="")


class ContentDraftSerializer(serializers.ModelSerializer):
    variants = TemplateVariantSerializer(many=True, read_only=True)

    class Meta:
        model = ContentDraft
        fields = ["id", "brief", "template", "segment", "sources", "language", "source", "structure", "llm_error",
                  "status", "variants", "created_at"]  # fmt: skip
        read_only_fields = fields


class ComposeSerializer(serializers.Serializer):
    brief = serializers.CharField(max_length=4000)
    template = serializers.PrimaryKeyRelatedField(queryset=ChannelTemplate.objects.all())
    segment = serializers.PrimaryKeyRelatedField(queryset=Segment.objects.all(), required=False, allow_null=True)
    sources = SourceSerializer(many=True, required=False, default=list)
    language = serializers.ChoiceField(choices=["", "en", "fr", "es", "ht"], required=False, default="")
    subject_count = serializers.IntegerField(min_value=1, max_value=5, default=3)


class CopyExperimentSerializer(serializers.Serializer):
    arms = serializers.ListField(
        child=serializers.ListField(child=serializers.IntegerField(), min_length=1),
        min_length=1,
        help_text="Variant ids per arm (at most one per template); the control sends the templates as written",
    )
    primary_metric = serializers.ChoiceField(choices=["click", "open", "reply", "conversion"], default="click")
    min_units_per_arm = serializers.IntegerField(min_value=1, default=1000)
    min_runtime_days = serializers.IntegerField(min_value=0, default=7)


class VariantFilter(FilterSet):
    class Meta:
        model = TemplateVariant
        fields = ["template", "status", "field", "draft", "language"]


class TemplateVariantViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Variants: read, edit copy (approved copy that changes is a draft again), check, preview per
    contact, approve, reject."""

    domain = "outreach"
    queryset = TemplateVariant.objects.select_related("template", "draft").order_by("-created_at", "-id")
    serializer_class = TemplateVariantSerializer
    filterset_class = VariantFilter
    write_actions = ("approve", "reject", "check", "preview")
    read_actions = ("preview",)
    required_perms = {"approve": APPROVE, "reject": APPROVE, "preview": ["outreach.view_templatevariant"]}

    def perform_update(self, serializer):
        copy = {k: v for k, v in serializer.validated_data.items() if k in TemplateVariant.COPY_FIELDS}
        serializer.instance = variant_update(variant=serializer.instance, actor=self.request.user, **copy)

    @extend_schema(request=DecisionSerializer, responses=TemplateVariantSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve for sending (refused while a guard reports an error)."""
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = variant_approve(variant=self.get_object(), actor=request.user, note=data.validated_data["note"])
        return Response(TemplateVariantSerializer(variant).data)

    @extend_schema(request=DecisionSerializer, responses=TemplateVariantSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject: never sent; queued sends are withdrawn and copy experiments sending it stop."""
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = variant_reject(variant=self.get_object(), actor=request.user, note=data.validated_data["note"])
        return Response(TemplateVariantSerializer(variant).data)

    @extend_schema(request=None, responses={200: OpenApiResponse(description="errors, warnings, claims, missing")})
    @action(detail=True, methods=["post"])
    def check(self, request, pk=None):
        """Run the guards again for the variant's audience and store the findings."""
        return Response(variant_check(variant=self.get_object()))

    @extend_schema(request=VariantPreviewSerializer, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """The variant rendered for one contact (drafts too; nothing is sent or stored)."""
        data = VariantPreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            rendered = variant_preview(
                variant=self.get_object(),
                contact=data.validated_data["contact"],
                campaign=data.validated_data.get("campaign"),
            )
        except ContentError as exc:
            raise serializers.ValidationError({"variant": str(exc)}) from exc
        return Response(PreviewResultSerializer(rendered).data)


class DraftFilter(FilterSet):
    class Meta:
        model = ContentDraft
        fields = ["template", "segment", "status", "language"]


class ContentDraftViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Newsletter drafts: compose from a brief (LLM or local composer), approve, reject."""

    domain = "outreach"
    queryset = (
        ContentDraft.objects.select_related("template", "segment")
        .prefetch_related("variants")
        .order_by("-created_at", "-id")
    )
    serializer_class = ContentDraftSerializer
    filterset_class = DraftFilter
    write_actions = ("approve", "reject")
    required_perms = {"approve": APPROVE, "reject": APPROVE}

    @extend_schema(request=ComposeSerializer, responses={201: ContentDraftSerializer})
    def create(self, request, *args, **kwargs):
        data = ComposeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = content_draft_compose(**data.validated_data, actor=request.user)
        return Response(ContentDraftSerializer(draft).data, status=201)

    @extend_schema(request=None, responses=ContentDraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve every variant of the draft without a blocking finding."""
        return Response(ContentDraftSerializer(content_draft_approve(draft=self.get_object(), actor=request.user)).data)

    @extend_schema(request=DecisionSerializer, responses=ContentDraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        data = DecisionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        draft = content_draft_reject(draft=self.get_object(), actor=request.user, note=data.validated_data["note"])
        return Response(ContentDraftSerializer(draft).data)


class CopyExperimentResultSerializer(serializers.Serializer):
    test = serializers.IntegerField()
    key = serializers.CharField()
    status = serializers.CharField()


def copy_experiment(view, request) -> Response:
    """POST campaigns/{id}/copy-experiment: start a copy experiment from approved variants."""
    data = CopyExperimentSerializer(data=request.data)
    data.is_valid(raise_exception=True)
    campaign = view.get_object()
    ids = [pk for arm in data.validated_data["arms"] for pk in arm]
    found = TemplateVariant.objects.select_related("template", "draft").in_bulk(ids)
    missing = sorted(set(ids) - set(found))
    if missing:
        raise serializers.ValidationError({"arms": f"Unknown variants: {missing}"})
    test = copy_experiment_start(
        campaign=campaign,
        arms=[[found[pk] for pk in arm] for arm in data.validated_data["arms"]],
        primary_metric=data.validated_data["primary_metric"],
        min_units_per_arm=data.validated_data["min_units_per_arm"],
        min_runtime_days=data.validated_data["min_runtime_days"],
        actor=request.user,
    )
    return Response({"test": test.pk, "key": test.key, "status": test.status}, status=201)


def variant_results(view, request) -> Response:
    """GET campaigns/{id}/variant-results: sends and outcomes per step, channel and variant."""
    return Response(selectors.variant_performance(campaign=view.get_object()))


def register(router) -> None:
    router.register("template-variants", TemplateVariantViewSet, basename="template-variant")
    router.register("content-drafts", ContentDraftViewSet, basename="content-draft")
