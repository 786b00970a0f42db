from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from bestpractices import campaigns, selectors, services
from bestpractices.api import serializers as s
from bestpractices.models import BestPractice, CampaignChange, DraftEditPattern, ProposedTest, Recommendation
from madansara.contacts.models import Contact
from outreach.models import OutreachCampaign, Segment
from outreach.selectors import segment_contacts

CHANGE_AND_TEST = ["bestpractices.change_recommendation", "abtesting.add_abtest"]
CHANGE_AND_DRAFT = ["bestpractices.change_recommendation", "bestpractices.add_campaignchange"]
APPLY_TO_CAMPAIGN = ["bestpractices.change_campaignchange", "outreach.change_outreachcampaign"]


class BestPracticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """What works: adjusted effects of message features on outcomes, versioned, with evidence."""

    domain = "bestpractices"
    serializer_class = s.BestPracticeSerializer
    filterset_fields = ["status", "outcome", "feature", "significant", "is_current"]
    ordering_fields = ["lift", "created_at", "n"]
    search_fields = ["feature", "value", "outcome"]

    def get_queryset(self):
        return BestPractice.objects.order_by("outcome", "feature", "value", "-version")


class RecommendationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Changes that practices say would lift an outcome: a template's subject or text (a draft
    experiment in one call) or a campaign's send time or a step's channel (a draft change in one call)."""

    domain = "bestpractices"
    serializer_class = s.PracticeRecommendationSerializer
    filterset_fields = ["status", "template", "campaign"]
    ordering_fields = ["expected_lift", "created_at"]
    search_fields = ["title"]
    write_actions = ("create_test", "draft_change", "dismiss")
    required_perms = {
        "create_test": CHANGE_AND_TEST,
        "draft_change": CHANGE_AND_DRAFT,
        "dismiss": ["bestpractices.change_recommendation"],
    }

    def get_queryset(self):
        return Recommendation.objects.select_related("practice", "experiment").order_by("-expected_lift", "pk")

    @extend_schema(request=None, responses=s.ExperimentRefSerializer)
    @action(detail=True, methods=["post"], url_path="create-test")
    def create_test(self, request, pk=None):
        """Make a draft experiment whose treatment variant carries the change: a template's subject or
        copy, or a campaign's window, weekdays or step channel (the campaign's send experiment)."""
        test = services.recommendation_create_test(recommendation=self.get_object(), actor=request.user)
        return Response({"experiment": test.key}, status=201)

    @extend_schema(request=None, responses=s.CampaignChangeSerializer)
    @action(detail=True, methods=["post"], url_path="draft-change")
    def draft_change(self, request, pk=None):
        """Make the draft change of the campaign (send window, weekdays or step channel) a marketer
        approves (applied without a test)."""
        change = campaigns.recommendation_draft_change(recommendation=self.get_object(), actor=request.user)
        return Response(s.CampaignChangeSerializer(change).data, status=201)

    @extend_schema(request=None, responses=s.PracticeRecommendationSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        recommendation = services.recommendation_dismiss(recommendation=self.get_object(), actor=request.user)
        return Response(s.PracticeRecommendationSerializer(recommendation).data)


class CampaignChangeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Draft changes of campaigns (send window, step channel) from recommendations, to approve or reject."""

    domain = "bestpractices"
    serializer_class = s.CampaignChangeSerializer
    filterset_fields = ["status", "campaign", "field"]
    ordering_fields = ["created_at"]
    search_fields = ["recommendation__title"]
    write_actions = ("approve", "reject")
    required_perms = {"approve": APPLY_TO_CAMPAIGN, "reject": ["bestpractices.change_campaignchange"]}

    def get_queryset(self):
        return CampaignChange.objects.select_related("recommendation").order_by("-created_at", "-pk")

    @extend_schema(request=None, responses=s.CampaignChangeSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Apply the change to the campaign."""
        change = campaigns.campaign_change_approve(change=self.get_object(), actor=request.user)
        return Response(s.CampaignChangeSerializer(change).data)

    @extend_schema(request=None, responses=s.CampaignChangeSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        change = campaigns.campaign_change_reject(change=self.get_object(), actor=request.user)
        return Response(s.CampaignChangeSerializer(change).data)


class ProposedTestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The test scheduler's proposals, waiting for approval."""

    domain = "bestpractices"
    serializer_class = s.ProposedTestSerializer
    filterset_fields = ["status", "week", "surface"]
    ordering_fields = ["expected_value", "week"]
    search_fields = ["audience"]
    write_actions = ("approve", "reject")
    required_perms = {"approve": ["bestpractices.change_proposedtest", "abtesting.add_abtest"],
                      "reject": ["bestpractices.change_proposedtest"]}  # fmt: skip

    def get_queryset(self):
        return ProposedTest.objects.select_related("recommendation__practice", "recommendation__experiment").order_by(
            "-week", "-expected_value"
        )

    @extend_schema(request=s.ProposalApproveSerializer, responses=s.ExperimentRefSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        body = s.ProposalApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        test = services.proposal_approve(proposal=self.get_object(), actor=request.user, **body.validated_data)
        return Response({"experiment": test.key})

    @extend_schema(request=None, responses=s.ProposedTestSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        proposal = services.proposal_reject(proposal=self.get_object(), actor=request.user)
        return Response(s.ProposedTestSerializer(proposal).data)


class DraftEditPatternViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """What reviewers change in AI drafts, per intent, channel and language."""

    domain = "bestpractices"
    serializer_class = s.DraftEditPatternSerializer
    filterset_fields = ["intent", "channel", "language"]
    ordering_fields = ["drafts", "updated_at"]
    search_fields = ["intent"]

    def get_queryset(self):
        return DraftEditPattern.objects.order_by("intent", "channel", "language")


class PredictionView(APIView):
    """Predicted outcome probabilities of a message before it is sent, over an audience."""

    domain = "bestpractices"
    required_perms = {"*": ["bestpractices.view_bestpractice"]}

    def get_queryset(self):
        return BestPractice.objects.none()

    @extend_schema(request=s.PredictionRequestSerializer, responses=s.PredictionSerializer)
    def post(self, request):
        body = s.PredictionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "segment" in data:
            contacts = segment_contacts(segment=get_object_or_404(Segment, pk=data["segment"]))
        else:
            contacts = Contact.objects.filter(erased_at__isnull=True, merged_into__isnull=True)
        run = selectors.run_latest()
        prediction = selectors.prediction_for(
            channel=data["channel"],
            subject=data["subject"],
            body=data["body"],
            audience=selectors.audience_of(contacts),
            run=run,
        )
        return Response({"p": prediction, "run": run.pk if run else None})


class PersonalisedVariantView(APIView):
    """Personalised copy after a campaign's copy experiment: POST assigns each contact the arm
    predicted best for them (a holdout keeps the winner); GET compares the two groups."""

    domain = "bestpractices"
    required_perms = {"*": ["outreach.operate_outreachcampaign"]}

    def get_queryset(self):
        return BestPractice.objects.none()

    @extend_schema(request=s.PersonaliseRequestSerializer, responses=s.PersonaliseCountsSerializer)
    def post(self, request, campaign_id: int):
        body = s.PersonaliseRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        campaign = get_object_or_404(OutreachCampaign, pk=campaign_id)
        counts = services.campaign_personalise(
            campaign=campaign, holdout_percent=body.validated_data["holdout_percent"], actor=request.user
        )
        return Response(counts)

    @extend_schema(responses=s.PersonalisedResultSerializer)
    def get(self, request, campaign_id: int):
        campaign = get_object_or_404(OutreachCampaign, pk=campaign_id)
        outcome = request.query_params.get("outcome", "clicked")
        if outcome not in ("opened", "clicked", "replied", "delivered"):
            outcome = "clicked"
        return Response(services.campaign_personalised_result(campaign=campaign, outcome=outcome))
