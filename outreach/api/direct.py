"""Send one message to one contact on their best channel: `POST /api/v1/outreach/send`.

An `Idempotency-Key` header makes retries safe: the same key with the same body answers with the
first result and sends nothing more; the same key with another body is refused (422).
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from madansara.api.exceptions import Conflict, Unprocessable
from madansara.choices import Channel
from madansara.contacts.models import Contact
from madansara.models import APIKey
from outreach.models import DirectSend, HoldReason
from outreach.services.direct import (
    DirectSendError,
    IdempotencyConflict,
    SendRefused,
    contact_resolve,
    direct_send_approve,
    direct_send_reject,
    direct_send_request,
    request_fingerprint,
)

APPROVE = ["outreach.approve_directsend"]
IDEMPOTENCY_HEADER = "Idempotency-Key"


class SendRequestSerializer(serializers.Serializer):
    contact = serializers.IntegerField(required=False, help_text="Contact id (or give email / phone)")
    email = serializers.EmailField(required=False)
    phone = serializers.CharField(required=False, max_length=40, help_text="E.164 (SMS or WhatsApp identity)")
    template = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Template name (one version per channel)"
    )
    text = serializers.CharField(required=False, allow_blank=True, max_length=10000)
    subject = serializers.CharField(required=False, allow_blank=True, max_length=998, help_text="E-mail subject")
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, help_text="Force a channel (default: the best one)"
    )

    def validate(self, attrs):
        if not any(attrs.get(k) for k in ("contact", "email", "phone")):
            raise serializers.ValidationError({"contact": "Give a contact id, an email or a phone."})
        if not (attrs.get("template") or (attrs.get("text") or "").strip()):
            raise serializers.ValidationError({"text": "Give a template or a text."})
        return attrs


class DirectSendSerializer(serializers.ModelSerializer):
    # Explicit so the schema says these may be blank ("" until a channel is chosen / nothing held).
    channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)
    requested_channel = serializers.ChoiceField(choices=Channel.choices, allow_blank=True, read_only=True)
    hold_reason = serializers.ChoiceField(choices=HoldReason.choices, allow_blank=True, read_only=True)
    outcome = serializers.CharField(read_only=True, help_text="What happened, in one sentence")
    message = serializers.UUIDField(source="message_id", read_only=True, allow_null=True)
    api_key = serializers.CharField(source="api_key.prefix", read_only=True, allow_null=True, default=None)

    class Meta:
        model = DirectSend
        fields = [
            "id", "contact", "channel", "requested_channel", "template_name", "subject", "text", "status",
            "hold_reason", "reason", "channel_score", "due_at", "attempts", "error", "message", "via", "api_key",
            "outcome", "created_at", "sent_at", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class DirectSendRejectSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)


class DirectSendViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Direct sends: one message to one contact, on the best channel, under the same rules as campaigns."""

    domain = "outreach"
    serializer_class = DirectSendSerializer
    queryset = DirectSend.objects.select_related("api_key")
    filterset_fields = ["status", "channel", "contact", "via"]
    ordering_fields = ["created_at", "due_at"]
    write_actions = ("approve", "reject")
    required_perms = {"create": ["outreach.add_directsend"], "approve": APPROVE, "reject": APPROVE}

    @extend_schema(
        request=SendRequestSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="Retries with the same key and body answer with the first result and send nothing more",
            )
        ],
        responses={
            201: OpenApiResponse(DirectSendSerializer, description="The send (also for a replay of the same key)"),
            403: OpenApiResponse(description="The action policy refuses sends"),
            422: OpenApiResponse(description="The Idempotency-Key was used with another body"),
        },
    )
    def create(self, request):
        """Send one message: the best channel is chosen; consent, suppression, frequency caps,
        quiet hours and the approval policy apply. `outcome` says what happened."""
        data = SendRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        key = (request.headers.get(IDEMPOTENCY_HEADER) or "").strip()
        if len(key) > 255:
            raise exceptions.ValidationError({"Idempotency-Key": "At most 255 characters."})
        try:
            contact = contact_resolve(
                contact_id=values.get("contact"), email=values.get("email", ""), phone=values.get("phone", "")
            )
        except (Contact.DoesNotExist, Contact.MultipleObjectsReturned) as exc:
            raise exceptions.ValidationError({"contact": "No single active contact matches."}) from exc
        try:
            send, replayed = direct_send_request(
                contact=contact,
                actor=request.user,
                text=values.get("text", ""),
                subject=values.get("subject", ""),
                template_name=values.get("template", ""),
                channel=values.get("channel", ""),
                api_key=request.auth if isinstance(request.auth, APIKey) else None,
                via="api",
                idempotency_key=key,
                fingerprint=request_fingerprint(request.data),
            )
        except SendRefused as exc:
            raise exceptions.PermissionDenied(str(exc)) from exc
        except IdempotencyConflict as exc:
            raise Unprocessable(str(exc), code="idempotency_key_reused") from exc
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(DirectSendSerializer(send).data, status=status.HTTP_201_CREATED, headers=headers)

    @extend_schema(request=None, responses=DirectSendSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a send queued for approval: it goes out now (or at the contact's next window)."""
        try:
            send = direct_send_approve(send=self.get_object(), actor=request.user)
        except DirectSendError as exc:
            raise Conflict(str(exc)) from exc
        return Response(DirectSendSerializer(send).data)

    @extend_schema(request=DirectSendRejectSerializer, responses=DirectSendSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        """Reject a send queued for approval; nothing is sent."""
        data = DirectSendRejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            send = direct_send_reject(
                send=self.get_object(), actor=request.user, reason=data.validated_data.get("reason", "")
            )
        except DirectSendError as exc:
            raise Conflict(str(exc)) from exc
        return Response(DirectSendSerializer(send).data)
