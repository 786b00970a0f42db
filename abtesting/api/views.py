from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from abtesting import selectors, services
from abtesting.api import serializers as s
from abtesting.api.filters import ABTestFilter
from abtesting.models import ABTest
from abtesting.tasks import test_results_refresh_task

CHANGE = ["abtesting.change_abtest"]
VIEW = ["abtesting.view_abtest"]


class ABTestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Experiments: define, run, watch and roll out."""

    domain = "abtesting"
    serializer_class = s.ABTestSerializer
    filterset_class = ABTestFilter
    lookup_field = "key"
    search_fields = ["key", "name"]
    ordering_fields = ["created_at", "started_at", "name"]
    read_actions = ("assignments", "results", "history", "decisions", "sample_size")
    required_perms = {
        "start": CHANGE, "stop": CHANGE, "rollout": CHANGE, "revert": CHANGE, "hold": CHANGE,
        "release": CHANGE, "refresh": CHANGE, "assignments": VIEW, "results": VIEW,
        "history": VIEW, "decisions": VIEW, "sample_size": VIEW,
    }  # fmt: skip

    def get_queryset(self):
        return ABTest.objects.prefetch_related("variants").select_related("winner").order_by("-created_at")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.abtest_create(actor=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = services.abtest_update(test=serializer.instance, actor=self.request.user, **data)

    def _transition(self, request, service, **kwargs):
        test = self.get_object()
        body = s.ReasonSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(test=test, actor=request.user, reason=body.validated_data["reason"], **kwargs)
        test.refresh_from_db()
        return Response(s.ABTestSerializer(test).data)

    @extend_schema(request=s.ReasonSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, key=None):
        return self._transition(request, services.abtest_start)

    @extend_schema(request=s.ReasonSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def stop(self, request, key=None):
        return self._transition(request, services.abtest_stop)

    @extend_schema(request=s.ReasonSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def revert(self, request, key=None):
        """Undo a rollout: the test runs again and automatic rollout is held."""
        return self._transition(request, services.abtest_revert_rollout)

    @extend_schema(request=s.ReasonSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def hold(self, request, key=None):
        return self._transition(request, services.abtest_set_hold, hold=True)

    @extend_schema(request=s.ReasonSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def release(self, request, key=None):
        return self._transition(request, services.abtest_set_hold, hold=False)

    @extend_schema(request=s.RolloutSerializer, responses=s.ABTestSerializer)
    @action(detail=True, methods=["post"])
    def rollout(self, request, key=None):
        """Manual rollout of a chosen winner (admin override of the policy)."""
        test = self.get_object()
        body = s.RolloutSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        variant = test.variants.filter(key=body.validated_data["variant"]).first()
        if variant is None:
            raise serializers.ValidationError({"variant": "No such variant in this test."})
        services.abtest_roll_out(test=test, variant=variant, actor=request.user, reason=body.validated_data["reason"])
        test.refresh_from_db()
        return Response(s.ABTestSerializer(test).data)

    @extend_schema(request=None, responses={202: OpenApiResponse(description="Refresh queued")})
    @action(detail=True, methods=["post"])
    def refresh(self, request, key=None):
        test = self.get_object()
        transaction.on_commit(lambda: test_results_refresh_task.delay(test.id))
        return Response(status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: s.SnapshotSerializer, 404: OpenApiResponse(description="No results yet")})
    @action(detail=True, methods=["get"], filter_backends=[])
    def results(self, request, key=None):
        """Latest results per variant: estimates of every method, SRM p-value."""
        snapshot = selectors.latest_snapshot(test=self.get_object())
        if snapshot is None:
            raise exceptions.NotFound("No results computed yet.")
        return Response(s.SnapshotSerializer(snapshot).data)

    @extend_schema(responses=s.SnapshotSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, key=None):
        """Snapshots over time, newest first (paginated)."""
        page = self.paginate_queryset(self.get_object().snapshots.order_by("-computed_at", "-id"))
        return self.get_paginated_response(s.SnapshotSerializer(page, many=True).data)

    @extend_schema(responses=s.DecisionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def decisions(self, request, key=None):
        """The decision log, newest first (paginated)."""
        page = self.paginate_queryset(self.get_object().decisions.all())
        return self.get_paginated_response(s.DecisionSerializer(page, many=True).data)

    @extend_schema(parameters=[s.AssignmentQuerySerializer], responses=s.AssignmentsSerializer)
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def assignments(self, request):
        """Variants of every live test for a unit (logs the exposure on first assignment)."""
        query = s.AssignmentQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        q = query.validated_data
        assignments = selectors.assignments_for(
            tests=selectors.live_tests(),
            unit_id=q["unit"],
            contact_id=q["contact"].pk if q.get("contact") else None,
            url=q.get("url"),
            channel=q.get("channel"),
        )
        return Response({"assignments": assignments})

    @extend_schema(parameters=[s.SampleSizeQuerySerializer], responses=s.SampleSizeSerializer)
    @action(detail=False, methods=["get"], url_path="sample-size", filter_backends=[], pagination_class=None)
    def sample_size(self, request):
        """Calculator: units per arm for a relative MDE, or the MDE for n units per arm."""
        query = s.SampleSizeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            plan = selectors.sample_size_plan(**query.validated_data)
        except ValueError as exc:
            raise serializers.ValidationError({"non_field_errors": [str(exc)]}) from exc
        return Response(s.SampleSizeSerializer(plan).data)
