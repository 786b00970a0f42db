from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from inbox.api import serializers as s
from inbox.api.filters import ConversationFilter, DraftFilter
from inbox.models import Conversation, DraftStatus, ReplyDraft
from inbox.selectors import reply_report, sla_counts
from inbox.services.assignment import conversation_assign
from inbox.services.conversations import conversation_label, conversation_status_set, note_add
from inbox.services.drafts import DraftError, draft_reject, draft_send
from madansara.api.exceptions import Conflict

APPROVE = ["inbox.approve_replydraft"]


class ConversationViewSet(viewsets.ReadOnlyModelViewSet):
    """Conversations with filters, full-text search, and the agent's verbs."""

    domain = "inbox"
    filterset_class = ConversationFilter
    ordering_fields = ["last_message_at", "next_response_due", "created_at"]
    write_actions = ("reply", "assign", "set_status", "notes", "labels")
    required_perms = {
        "reply": APPROVE,
        "assign": ["inbox.change_conversation"],
        "set_status": ["inbox.change_conversation"],
        "notes": ["inbox.add_internalnote"],
        "labels": ["inbox.change_conversation"],
    }

    def get_queryset(self):
        queryset = Conversation.objects.select_related("assignee").order_by("-last_message_at", "-id")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("labels", "notes", "entries__inbound", "entries__outbound")
        return queryset

    def get_serializer_class(self):
        return s.ConversationDetailSerializer if self.action == "retrieve" else s.ConversationListSerializer

    @extend_schema(responses=s.SLACountsSerializer)
    @action(detail=False, methods=["get"], url_path="sla-counts")
    def sla_counts(self, request):
        """At-risk and breached counts for the current filters."""
        return Response(sla_counts(queryset=self.filter_queryset(self.get_queryset()).order_by()))

    @extend_schema(responses=s.ReplyReportSerializer)
    @action(detail=False, methods=["get"], url_path="reply-report", filter_backends=[])
    def reply_report(self, request):
        """Human and auto-sent replies reported separately."""
        return Response(reply_report())

    @extend_schema(request=s.ReplySerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def reply(self, request, pk=None):
        """Send a human reply now (it answers the latest inbound message)."""
        conversation = self.get_object()
        body = s.ReplySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inbound = conversation.entries.filter(direction="in").order_by("-created_at").first()
        if inbound is None:
            raise ValidationError({"detail": "Nothing to reply to."})
        draft = ReplyDraft.objects.filter(inbound_id=inbound.inbound_id, status=DraftStatus.PENDING).first()
        if draft is None:
            draft = ReplyDraft.objects.create(
                conversation=conversation,
                inbound_id=inbound.inbound_id,
                source="human",
                text=body.validated_data["text"],
            )
        try:
            draft = draft_send(draft=draft, actor=request.user, text=body.validated_data["text"])
        except DraftError as exc:
            raise Conflict(str(exc)) from exc
        return Response(s.DraftSerializer(draft).data, status=201)

    @extend_schema(request=s.AssignSerializer, responses=s.ConversationListSerializer)
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        body = s.AssignSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        user_id = body.validated_data["assignee"]
        user = get_object_or_404(get_user_model(), pk=user_id) if user_id else None
        conversation = conversation_assign(conversation=self.get_object(), assignee=user, actor=request.user)
        return Response(s.ConversationListSerializer(conversation).data)

    @extend_schema(request=s.StatusSerializer, responses=s.ConversationListSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        body = s.StatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            conversation = conversation_status_set(
                conversation=self.get_object(),
                status=body.validated_data["status"],
                snoozed_until=body.validated_data.get("snoozed_until"),
                actor=request.user,
            )
        except ValueError as exc:
            raise ValidationError({"status": str(exc)}) from exc
        return Response(s.ConversationListSerializer(conversation).data)

    @extend_schema(request=s.LabelsSerializer, responses=s.ConversationDetailSerializer)
    @action(detail=True, methods=["post"])
    def labels(self, request, pk=None):
        body = s.LabelsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        conversation = conversation_label(conversation=self.get_object(), names=body.validated_data["labels"])
        return Response(s.ConversationDetailSerializer(conversation).data)

    @extend_schema(request=s.NoteSerializer, responses=s.NoteSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        body = s.NoteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        note = note_add(conversation=self.get_object(), author=request.user, text=body.validated_data["text"])
        return Response(s.NoteSerializer(note).data, status=201)


class DraftViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The review queue: drafts ordered by SLA due time; approve, edit (then send), reject."""

    domain = "inbox"
    serializer_class = s.DraftSerializer
    filterset_class = DraftFilter
    write_actions = ("approve", "edit", "reject")
    required_perms = {"approve": APPROVE, "edit": APPROVE, "reject": ["inbox.change_replydraft"]}

    def get_queryset(self):
        return ReplyDraft.objects.select_related("inbound", "conversation").order_by("sla_due_at", "id")

    def _send(self, request, text=None):
        try:
            draft = draft_send(draft=self.get_object(), actor=request.user, text=text)
        except DraftError as exc:
            raise Conflict(str(exc)) from exc
        return Response(s.DraftSerializer(draft).data)

    @extend_schema(request=None, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._send(request)

    @extend_schema(request=s.EditSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def edit(self, request, pk=None):
        body = s.EditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._send(request, text=body.validated_data["text"])

    @extend_schema(request=s.RejectSerializer, responses=s.DraftSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        body = s.RejectSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            draft = draft_reject(draft=self.get_object(), actor=request.user, reason=body.validated_data["reason"])
        except DraftError as exc:
            raise Conflict(str(exc)) from exc
        return Response(s.DraftSerializer(draft).data)
