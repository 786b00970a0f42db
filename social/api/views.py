from django.db import transaction
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response

from madansara.api.exceptions import Conflict
from madansara.api.pagination import CursorPagination
from social import selectors
from social.api import filters as f
from social.api import serializers as s
from social.models import (
    FunnelRun,
    PlatformInsight,
    SocialAccount,
    SocialAdvocate,
    SocialComment,
    SocialEngagement,
    SocialEngagementFunnel,
    SocialPost,
)
from social.services import comments, scoring
from social.tasks import account_sync_task

CHANGE_COMMENT = ["social.change_socialcomment"]


class SocialAccountViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Connected accounts; the access token is write-only and never returned."""

    domain = "social"
    serializer_class = s.SocialAccountSerializer
    queryset = SocialAccount.objects.order_by("platform", "name")
    filterset_fields = ["platform", "is_active"]
    search_fields = ["name", "handle"]
    required_perms = {"sync": ["social.change_socialaccount"]}

    @extend_schema(request=None, responses={202: OpenApiResponse(description="Sync queued")})
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        account = self.get_object()
        transaction.on_commit(lambda: account_sync_task.delay(account.pk))
        return Response(status=status.HTTP_202_ACCEPTED)


class SocialPostViewSet(viewsets.ReadOnlyModelViewSet):
    """Posts with their latest metrics."""

    domain = "social"
    serializer_class = s.SocialPostSerializer
    queryset = SocialPost.objects.select_related("account").order_by("-published_at")
    filterset_class = f.SocialPostFilter
    search_fields = ["text", "external_id"]
    ordering_fields = ["published_at", "likes", "reach", "impressions"]


class SocialCommentViewSet(viewsets.ReadOnlyModelViewSet):
    """Comments, mentions and story replies with their handling state; approve, dismiss or hide."""

    domain = "social"
    serializer_class = s.SocialCommentSerializer
    queryset = SocialComment.objects.order_by("-commented_at")
    filterset_class = f.SocialCommentFilter
    search_fields = ["text", "author_handle"]
    ordering_fields = ["commented_at", "status"]
    required_perms = {"approve": CHANGE_COMMENT, "dismiss": CHANGE_COMMENT, "hide": CHANGE_COMMENT}

    @extend_schema(
        request=s.ApproveSerializer,
        responses={200: s.SocialCommentSerializer, 409: OpenApiResponse(description="Not awaiting approval")},
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve (optionally rewrite) the reply; it is published as the account's reply budget allows."""
        user = request.user
        if not (user.has_perm("social.approve_socialcomment") or user.has_perm("inbox.approve_replydraft")):
            raise PermissionDenied("Your role does not allow approving replies.")
        comment = self.get_object()
        body = s.ApproveSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            comments.comment_reply_approve(comment=comment, actor=user, text=body.validated_data.get("text"))
        except comments.CommentStateError as exc:
            raise Conflict(str(exc))
        comment.refresh_from_db()
        return Response(s.SocialCommentSerializer(comment).data)

    @extend_schema(request=None, responses={200: s.SocialCommentSerializer, 409: OpenApiResponse()})
    @action(detail=True, methods=["post"])
    def dismiss(self, request, pk=None):
        try:
            comment = comments.comment_dismiss(comment=self.get_object(), actor=request.user)
        except comments.CommentStateError as exc:
            raise Conflict(str(exc))
        return Response(s.SocialCommentSerializer(comment).data)

    @extend_schema(request=None, responses=s.SocialCommentSerializer)
    @action(detail=True, methods=["post"])
    def hide(self, request, pk=None):
        comment = self.get_object()
        comments.comment_hide(comment=comment, actor=request.user)
        comment.refresh_from_db()
        return Response(s.SocialCommentSerializer(comment).data)


class SocialEngagementFunnelViewSet(viewsets.ModelViewSet):
    """Comment-to-DM funnels with their steps and stats (triggered, DM sent, replied, converted)."""

    domain = "social"
    serializer_class = s.SocialEngagementFunnelSerializer
    filterset_fields = ["account", "trigger", "is_active"]
    search_fields = ["name"]

    def get_queryset(self):
        base = SocialEngagementFunnel.objects.prefetch_related("steps").order_by("name")
        return selectors.funnels_with_stats(base)


class FunnelRunViewSet(viewsets.ReadOnlyModelViewSet):
    domain = "social"
    serializer_class = s.FunnelRunSerializer
    queryset = FunnelRun.objects.order_by("-started_at")
    filterset_class = f.FunnelRunFilter


class SocialAdvocateViewSet(viewsets.ReadOnlyModelViewSet):
    """The advocate review list; enrol one in the advocate campaign."""

    domain = "social"
    serializer_class = s.SocialAdvocateSerializer
    queryset = SocialAdvocate.objects.select_related("contact").order_by("-score")
    filterset_class = f.SocialAdvocateFilter
    search_fields = ["contact__name"]
    ordering_fields = ["score", "reach", "last_engaged_at"]
    required_perms = {"enrol": ["social.change_socialadvocate"]}

    @extend_schema(request=s.EnrolSerializer, responses=s.SocialAdvocateSerializer)
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        advocate = self.get_object()
        body = s.EnrolSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        scoring.advocates_enrol(
            advocates=SocialAdvocate.objects.filter(pk=advocate.pk),
            actor=request.user,
            tag=body.validated_data.get("tag"),
        )
        advocate.refresh_from_db()
        return Response(s.SocialAdvocateSerializer(advocate).data)


class PlatformInsightViewSet(viewsets.ReadOnlyModelViewSet):
    """Daily account insights (reach, impressions, followers, engagement rate) for charts."""

    domain = "social"
    serializer_class = s.PlatformInsightSerializer
    queryset = PlatformInsight.objects.order_by("account_id", "day")
    filterset_class = f.PlatformInsightFilter


class SocialEngagementViewSet(viewsets.ReadOnlyModelViewSet):
    domain = "social"
    serializer_class = s.SocialEngagementSerializer
    queryset = SocialEngagement.objects.all()
    filterset_class = f.SocialEngagementFilter
    pagination_class = CursorPagination
    ordering_fields = ["id"]
