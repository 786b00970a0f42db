from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from madansara.api.exceptions import Conflict
from website import recommendations, selectors, services
from website.api import serializers as s
from website.api.filters import FunnelFilter, RecommendationFilter, SessionFilter
from website.funnels import FunnelSpec, funnel_compute
from website.models import FunnelDefinition, OptimizationRecommendation, Site, WebsiteSession

VIEW_STATS = ["website.view_websitesession"]
CHANGE_FUNNEL = ["website.change_funneldefinition", "contacts.change_contact"]
CREATE_TEST = ["website.change_optimizationrecommendation", "abtesting.add_abtest"]


class SiteViewSet(viewsets.ModelViewSet):
    """Tracked websites, each with the snippet to paste into its pages."""

    domain = "website"
    queryset = Site.objects.order_by("name")
    serializer_class = s.SiteSerializer
    search_fields = ["name", "domain"]
    filterset_fields = ["is_active"]


class SessionViewSet(viewsets.ReadOnlyModelViewSet):
    """Visits with entry/exit page, duration, source and customer type."""

    domain = "website"
    queryset = WebsiteSession.objects.order_by("-started_at", "-id")
    serializer_class = s.SessionSerializer
    filterset_class = SessionFilter
    ordering_fields = ["started_at", "pageviews"]


class _StatsView(APIView):
    domain = "website"
    required_perms = {"*": VIEW_STATS}
    query_serializer = s.RangeQuerySerializer

    def query(self, request) -> dict:
        query = self.query_serializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = dict(query.validated_data)
        data["site_id"] = data.pop("site").pk
        return data


class TimeSeriesView(_StatsView):
    query_serializer = s.TimeSeriesQuerySerializer

    @extend_schema(parameters=[s.TimeSeriesQuerySerializer], responses=s.TimeSeriesPointSerializer(many=True))
    def get(self, request):
        """Visitors, sessions, page views, events and conversions per hour, day or week."""
        return Response(s.TimeSeriesPointSerializer(selectors.time_series(**self.query(request)), many=True).data)


class TopPagesView(_StatsView):
    @extend_schema(parameters=[s.RangeQuerySerializer], responses=s.PageSerializer(many=True))
    def get(self, request):
        """The most viewed pages with entries, exits and exit rate."""
        return Response(s.PageSerializer(selectors.top_pages(**self.query(request)), many=True).data)


class TopSourcesView(_StatsView):
    query_serializer = s.SourcesQuerySerializer

    @extend_schema(parameters=[s.SourcesQuerySerializer], responses=s.SourceSerializer(many=True))
    def get(self, request):
        """Sessions and visitors by traffic class, source, medium or campaign."""
        query = self.query(request)
        group_by = query["group_by"]
        rows = selectors.top_sources(**query)
        data = [{"value": row[group_by], "sessions": row["sessions"], "visitors": row["visitors"]} for row in rows]
        return Response(s.SourceSerializer(data, many=True).data)


class FunnelViewSet(viewsets.ModelViewSet):
    """Funnel definitions, their results, drop-off segments and daily snapshots."""

    domain = "website"
    queryset = FunnelDefinition.objects.order_by("site_id", "name")
    serializer_class = s.FunnelSerializer
    filterset_class = FunnelFilter
    search_fields = ["name"]
    read_actions = ("results", "snapshots")
    required_perms = {
        "results": ["website.view_funneldefinition"],
        "snapshots": ["website.view_funnelanalytics"],
        "save_segment": CHANGE_FUNNEL,
    }

    @extend_schema(parameters=[s.FunnelQuerySerializer], responses=s.FunnelResultSerializer)
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """Per-step counts, conversion, drop-off lists, median times and an optional breakdown."""
        funnel = self.get_object()
        query = s.FunnelQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = funnel_compute(FunnelSpec.for_funnel(funnel, **query.validated_data))
        return Response(
            s.FunnelResultSerializer(
                {"steps": result.steps, "dropped": result.dropped, "breakdown": result.breakdown}
            ).data
        )

    @extend_schema(request=s.SaveSegmentSerializer, responses=s.SavedSegmentSerializer)
    @action(detail=True, methods=["post"], url_path="save-segment")
    def save_segment(self, request, pk=None):
        """Tag the contacts who dropped after a step, so a campaign can target them."""
        funnel = self.get_object()
        body = s.SaveSegmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        query = s.FunnelQuerySerializer(data={k: request.data[k] for k in ("start", "end") if k in request.data})
        query.is_valid(raise_exception=True)
        try:
            tag, count = services.funnel_dropoff_save_segment(
                funnel=funnel,
                step_index=body.validated_data["step"],
                start=query.validated_data["start"],
                end=query.validated_data["end"],
                tag_name=body.validated_data["tag"],
            )
        except ValueError as exc:
            raise ValidationError({"step": str(exc)}) from exc
        return Response({"tag_id": tag.pk, "tag": tag.name, "contacts": count})

    @extend_schema(responses=s.FunnelSnapshotSerializer(many=True))
    @action(detail=True, methods=["get"])
    def snapshots(self, request, pk=None):
        """Daily FunnelAnalytics snapshots, newest first (paginated)."""
        funnel = self.get_object()
        page = self.paginate_queryset(funnel.snapshots.order_by("-day"))
        return self.get_paginated_response(s.FunnelSnapshotSerializer(page, many=True).data)


class RecommendationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Optimisation recommendations with evidence and a proposed A/B test."""

    domain = "website"
    queryset = OptimizationRecommendation.objects.order_by("-impact_score", "-id")
    serializer_class = s.RecommendationSerializer
    filterset_class = RecommendationFilter
    write_actions = ("create_test", "dismiss")
    required_perms = {"create_test": CREATE_TEST, "dismiss": ["website.change_optimizationrecommendation"]}

    @extend_schema(request=None, responses=s.CreatedTestSerializer)
    @action(detail=True, methods=["post"], url_path="create-test")
    def create_test(self, request, pk=None):
        """Create the proposed A/B test as a draft, in one call."""
        recommendation = self.get_object()
        try:
            test = recommendations.recommendation_create_test(recommendation=recommendation, actor=request.user)
        except ValueError as exc:
            raise Conflict(str(exc)) from exc
        recommendation.refresh_from_db()
        return Response({"recommendation": s.RecommendationSerializer(recommendation).data, "experiment_key": test.key})

    @extend_schema(request=None, responses=s.RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        """Hide a recommendation; reruns keep it dismissed."""
        recommendation = self.get_object()
        recommendations.recommendation_dismiss(recommendation=recommendation)
        recommendation.refresh_from_db()
        return Response(s.RecommendationSerializer(recommendation).data)
