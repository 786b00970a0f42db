from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from conversion import selectors, services
from conversion.api import serializers as s
from conversion.api.filters import ChannelPerformanceFilter, ConversionFilter
from conversion.models import ChannelPerformance, ConversionEvent, ConversionSource
from madansara.api.exceptions import Conflict
from madansara.contacts.models import Contact

VIEW_CONVERSIONS = ["conversion.view_conversionevent"]


class DuplicateConversion(Conflict):
    default_code = "duplicate_conversion"


class ConversionViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Conversions: record one (idempotent by external_id), list, read its journey, statistics."""

    domain = "conversion"
    serializer_class = s.ConversionSerializer
    filterset_class = ConversionFilter
    search_fields = ["external_id"]
    ordering_fields = ["occurred_at", "value", "recorded_at"]
    read_actions = ("stats",)
    required_perms = {"stats": VIEW_CONVERSIONS}

    def get_queryset(self):
        return (
            ConversionEvent.objects.select_related("conversion_type")
            .prefetch_related("journey")
            .order_by("-occurred_at", "-id")
        )

    @extend_schema(
        request=s.ConversionCreateSerializer,
        responses={
            201: s.ConversionSerializer,
            400: OpenApiResponse(description="Invalid input or unknown conversion type"),
            409: OpenApiResponse(description="A conversion with this external_id was already recorded"),
        },
    )
    def create(self, request, *args, **kwargs):
        body = s.ConversionCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        contact = data.get("contact_id")
        conversion, created = services.conversion_record(
            external_id=data["external_id"],
            type=data["type"],
            value=data["value"],
            currency=data["currency"],
            contact_id=contact.pk if contact else None,
            visitor_id=data.get("visitor_id") or "",
            occurred_at=data["occurred_at"],
            source=ConversionSource.API,
        )
        if not created:
            raise DuplicateConversion(
                f"Conversion '{conversion.external_id}' was already recorded (id {conversion.pk}); it is counted once."
            )
        return Response(s.ConversionSerializer(conversion).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[s.StatsQuerySerializer],
        responses=s.ConversionStatSerializer(many=True),
        description="Conversions and value per day, week or month (and type, currency).",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def stats(self, request):
        query = s.StatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        rows = selectors.conversion_stats(
            since=q["since"], until=q["until"], interval=q["interval"], conversion_type=q.get("type")
        )
        for row in rows:
            if hasattr(row["period"], "date"):
                row["period"] = row["period"].date()
        return Response(s.ConversionStatSerializer(rows, many=True).data)


class AttributionView(APIView):
    """Credit per channel under every attribution model, side by side."""

    domain = "conversion"
    required_perms = {"*": ["conversion.view_attributioncredit"]}

    @extend_schema(parameters=[s.AttributionQuerySerializer], responses=s.AttributionComparisonSerializer)
    def get(self, request):
        query = s.AttributionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        table = selectors.attribution_comparison(since=q["since"], until=q["until"], by=q["by"])
        return Response(s.AttributionComparisonSerializer({"by": q["by"], **table}).data)


class ChannelPerformanceViewSet(viewsets.ReadOnlyModelViewSet):
    """Daily performance per channel and campaign with ROI and cost per acquisition under each model."""

    domain = "conversion"
    serializer_class = s.ChannelPerformanceSerializer
    filterset_class = ChannelPerformanceFilter
    ordering_fields = ["day", "channel", "cost"]
    queryset = ChannelPerformance.objects.order_by("day", "channel", "campaign")
    read_actions = ("series",)

    @extend_schema(
        parameters=[s.SeriesQuerySerializer],
        responses=s.PerformancePointSerializer(many=True),
        description="Cost, attributed revenue and ROI per day and channel under one model (campaigns summed).",
    )
    @action(detail=False, methods=["get"], pagination_class=None, filterset_class=None)
    def series(self, request):
        query = s.SeriesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        points = selectors.performance_series(
            since=q["since"], until=q["until"], model=q["model"], channel=q.get("channel")
        )
        return Response(s.PerformancePointSerializer(points, many=True).data)


class ContactJourneyView(APIView):
    """A contact's touchpoints and conversions with their stored journeys."""

    domain = "conversion"
    required_perms = {"*": ["conversion.view_customertouchpoint"]}

    @extend_schema(
        parameters=[OpenApiParameter("contact_id", int, OpenApiParameter.PATH)],
        responses=s.ContactJourneySerializer,
    )
    def get(self, request, contact_id: int):
        contact = get_object_or_404(Contact, pk=contact_id)
        return Response(s.ContactJourneySerializer(selectors.contact_journey(contact_id=contact.pk)).data)
