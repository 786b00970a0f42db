"""Contacts API: CRUD, search, filters, merge and bulk upsert (≤ 1,000 per request)."""

import django_filters
from django.db import transaction
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from madansara.api.filters import BooleanFilter, DateTimeFilter, FilterSet
from madansara.choices import Channel
from madansara.contacts import selectors, services
from madansara.contacts.models import ConsentStatus, Contact, LifecycleStage

BULK_MAX = 1000


# --- serializers ----------------------------------------------------------------------------


class IdentitiesSerializer(serializers.Serializer):
    """One identity per channel (normalised on write: lower-case email, E.164 phone, handle)."""

    def get_fields(self):
        return {ch: serializers.CharField(required=False, allow_blank=True, max_length=255) for ch in Channel.values}


class ConsentsWriteSerializer(serializers.Serializer):
    def get_fields(self):
        return {ch: serializers.ChoiceField(choices=ConsentStatus.choices, required=False) for ch in Channel.values}


class ConsentSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    status = serializers.ChoiceField(choices=ConsentStatus.choices)
    source = serializers.CharField()
    updated_at = serializers.DateTimeField()


class ContactSerializer(serializers.ModelSerializer):
    identities = serializers.SerializerMethodField()
    consents = ConsentSerializer(many=True, read_only=True)
    tags = serializers.SlugRelatedField(many=True, read_only=True, slug_field="name")
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id", "external_id", "name", "timezone", "locale", "lifecycle_stage", "tags", "attributes",
            "engagement_score", "identities", "consents", "is_active", "merged_into", "erased_at",
            "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(IdentitiesSerializer)
    def get_identities(self, contact) -> dict:
        return {identity.channel: identity.value for identity in contact.identities.all()}


class ContactWriteSerializer(serializers.Serializer):
    external_id = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    name = serializers.CharField(required=False, allow_blank=True, max_length=255)
    timezone = serializers.CharField(required=False, max_length=64, help_text="IANA zone, e.g. Europe/Paris")
    locale = serializers.CharField(required=False, allow_blank=True, max_length=35)
    lifecycle_stage = serializers.ChoiceField(choices=LifecycleStage.choices, required=False)
    tags = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    attributes = serializers.DictField(required=False)
    identities = IdentitiesSerializer(required=False)
    consents = ConsentsWriteSerializer(required=False)


class MergeSerializer(serializers.Serializer):
    duplicate = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.active(), help_text="Contact merged into this one (it becomes inactive)"
    )


class BulkUpsertSerializer(serializers.Serializer):
    contacts = ContactWriteSerializer(many=True, help_text=f"At most {BULK_MAX}; matched by external_id or identity")


class BulkItemResultSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    status = serializers.ChoiceField(choices=services.UpsertStatus.choices)
    id = serializers.IntegerField(allow_null=True)
    errors = serializers.JSONField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    errors = serializers.IntegerField()
    results = BulkItemResultSerializer(many=True)


# --- filters --------------------------------------------------------------------------------


class ContactFilter(FilterSet):
    lifecycle_stage = django_filters.MultipleChoiceFilter(choices=LifecycleStage.choices)
    tag = django_filters.CharFilter(field_name="tags__name", label="Has this tag")
    has_identity = django_filters.ChoiceFilter(
        choices=Channel.choices, method="filter_has_identity", label="Has an identity on this channel"
    )
    lacks_identity = django_filters.ChoiceFilter(
        choices=Channel.choices, method="filter_lacks_identity", label="Has no identity on this channel"
    )
    external_id = django_filters.CharFilter()
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = DateTimeFilter(field_name="updated_at", lookup_expr="gte")
    include_inactive = BooleanFilter(method="filter_include_inactive", label="Also list merged and erased contacts")

    class Meta:
        model = Contact
        fields = ["lifecycle_stage", "tag", "external_id"]

    def filter_include_inactive(self, queryset, name, value):
        return queryset  # applied by the view's get_queryset (listed here for the schema)

    def filter_has_identity(self, queryset, name, value):
        return selectors.contacts_with_identity(queryset=queryset, channel=value)

    def filter_lacks_identity(self, queryset, name, value):
        return selectors.contacts_with_identity(queryset=queryset, channel=value, present=False)


def _consent_filter(channel):
    def method(self, queryset, name, value):
        return selectors.contacts_with_consent(queryset=queryset, channel=channel, status=value)

    return method


for _channel in Channel.values:
    _name = f"consent_{_channel}"
    ContactFilter.base_filters[_name] = django_filters.ChoiceFilter(
        choices=ConsentStatus.choices, method=_name, label=f"Consent on {_channel}"
    )
    setattr(ContactFilter, _name, _consent_filter(_channel))


# --- views ----------------------------------------------------------------------------------


class ContactViewSet(viewsets.ModelViewSet):
    """Contacts. DELETE is a GDPR erasure: personal data removed, the anonymised row stays."""

    domain = "contacts"
    serializer_class = ContactSerializer
    filterset_class = ContactFilter
    search_fields = ["name", "external_id", "identities__value"]
    ordering_fields = ["id", "name", "created_at", "updated_at", "engagement_score"]
    ordering = ["-id"]
    throttle_scope = None  # the bulk action uses the "bulk" rate
    write_actions = ("bulk", "merge")
    required_perms = {
        "bulk": ["contacts.add_contact", "contacts.change_contact"],
        "merge": ["contacts.change_contact"],
    }
    queryset = Contact.objects.none()  # permissions derive from the model; rows come from get_queryset

    def get_queryset(self):
        include_inactive = self.action != "list" or self.request.query_params.get("include_inactive") == "true"
        return selectors.contacts_list(include_inactive=include_inactive)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return ContactWriteSerializer
        return super().get_serializer_class()

    def _read(self, contact, status_code=status.HTTP_200_OK):
        contact = selectors.contacts_list(include_inactive=True).get(pk=contact.pk)
        return Response(ContactSerializer(contact).data, status=status_code)

    @extend_schema(request=ContactWriteSerializer, responses={201: ContactSerializer})
    def create(self, request, *args, **kwargs):
        serializer = ContactWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        contact = services.contact_create(data=serializer.validated_data, source="api", actor=request.user)
        return self._read(contact, status.HTTP_201_CREATED)

    @extend_schema(request=ContactWriteSerializer, responses=ContactSerializer)
    def update(self, request, *args, **kwargs):
        contact = self.get_object()
        if not contact.is_active:
            return Response(
                {
                    "error": {
                        "code": "conflict",
                        "message": "Merged or erased contacts cannot be changed.",
                        "details": {},
                    }
                },
                status=status.HTTP_409_CONFLICT,
            )
        serializer = ContactWriteSerializer(data=request.data, partial=kwargs.get("partial", False))
        serializer.is_valid(raise_exception=True)
        contact = services.contact_update(contact=contact, data=serializer.validated_data, actor=request.user)
        return self._read(contact)

    @extend_schema(request=ContactWriteSerializer, responses=ContactSerializer)
    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)

    def destroy(self, request, *args, **kwargs):
        contact = self.get_object()
        if contact.erased_at is None:
            services.contact_erase(contact=contact, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=MergeSerializer, responses=ContactSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request, pk=None):
        """Merge a duplicate into this contact (identities, consent history and activity move here)."""
        survivor = self.get_object()
        serializer = MergeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.contact_merge(survivor=survivor, loser=serializer.validated_data["duplicate"], actor=request.user)
        return self._read(survivor)

    @extend_schema(request=BulkUpsertSerializer, responses=BulkResultSerializer)
    @action(detail=False, methods=["post"], throttle_scope="bulk")
    def bulk(self, request):
        """Create or update up to 1,000 contacts; each item gets its own result."""
        items = request.data.get("contacts") if isinstance(request.data, dict) else None
        if not isinstance(items, list) or not items:
            raise serializers.ValidationError({"contacts": ["A non-empty list of contacts is required."]})
        if len(items) > BULK_MAX:
            raise serializers.ValidationError({"contacts": [f"At most {BULK_MAX} contacts per request."]})
        errors, valid, positions = {}, [], []
        for index, item in enumerate(items):
            serializer = ContactWriteSerializer(data=item) if isinstance(item, dict) else None
            if serializer is None or not serializer.is_valid():
                errors[index] = serializer.errors if serializer is not None else ["Must be an object."]
                continue
            valid.append(serializer.validated_data)
            positions.append(index)
        with transaction.atomic():
            written = services.contacts_upsert(items=valid, source="api")
        results = [{"index": i, "status": "error", "id": None, "errors": e} for i, e in errors.items()]
        results += [
            {"index": positions[r.index], "status": r.status, "id": r.contact_id, "errors": r.errors} for r in written
        ]
        results.sort(key=lambda r: r["index"])
        counts = {s: sum(r["status"] == s for r in results) for s in ("created", "updated", "error")}
        body = {
            "created": counts["created"],
            "updated": counts["updated"],
            "errors": counts["error"],
            "results": results,
        }
        return Response(body)
