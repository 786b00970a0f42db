"""API keys over the API: create (the key is in the response once), list, revoke."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from madansara.models import APIKey
from madansara.services import api_key_create, api_key_revoke, api_key_scope_choices


class APIKeySerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.get_username", read_only=True)
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = APIKey
        fields = ["id", "name", "prefix", "user", "scopes", "created_at", "last_used_at", "expires_at",
                  "revoked_at", "is_active"]  # fmt: skip
        read_only_fields = fields


class APIKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=api_key_scope_choices()), min_length=1)
    expires_at = serializers.DateTimeField(required=False, allow_null=True)


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(read_only=True, help_text="Shown only in this response; store it now")

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]
        read_only_fields = fields


class APIKeyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your API keys (superusers see everyone's). Scopes can never exceed your own role."""

    domain = "api_keys"  # only '*' scopes reach key management through a key
    serializer_class = APIKeySerializer
    queryset = APIKey.objects.none()
    write_actions = ("revoke",)
    required_perms = {"revoke": ["madansara.change_apikey"]}
    filterset_fields = ["revoked_at"]
    ordering_fields = ["created_at", "last_used_at", "name"]

    def get_queryset(self):
        keys = APIKey.objects.select_related("user")
        return keys if self.request.user.is_superuser else keys.filter(user=self.request.user)

    @extend_schema(request=APIKeyCreateSerializer, responses={201: APIKeyCreatedSerializer})
    def create(self, request):
        serializer = APIKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw = api_key_create(user=request.user, actor=request.user, **serializer.validated_data)
        key.key = raw
        return Response(APIKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=APIKeySerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """Revoke the key immediately (requests with it get 401 from now on)."""
        return Response(APIKeySerializer(api_key_revoke(key=self.get_object(), actor=request.user)).data)
