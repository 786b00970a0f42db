from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model

from madansara.models import APIKey, AuditEvent
from madansara.services import api_key_create, api_key_revoke, api_key_scope_choices, api_key_scope_errors


class APIKeyAddForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope, scope) for scope in api_key_scope_choices()],
        widget=forms.CheckboxSelectMultiple,
        help_text="write implies read; a key can never do more than its owner's role allows",
    )

    class Meta:
        model = APIKey
        fields = ["name", "user", "scopes", "expires_at"]

    def clean(self):
        data = super().clean()
        if data.get("user") and data.get("scopes"):
            errors = api_key_scope_errors(user=data["user"], scopes=data["scopes"])
            if errors:
                self.add_error("scopes", errors)
        return data


@admin.register(APIKey)
class APIKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    search_fields = ["name", "prefix", "user__username"]
    readonly_fields = ["prefix", "scopes", "user", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_keys"]

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = APIKeyAddForm
        return super().get_form(request, obj, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "user", "scopes", "expires_at"]
        return ["name", "user", "prefix", "scopes", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def get_changeform_initial_data(self, request):
        return {"user": request.user.pk}

    def get_queryset(self, request):
        keys = super().get_queryset(request).select_related("user")
        return keys if request.user.is_superuser else keys.filter(user=request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user" and not request.user.is_superuser:
            kwargs["queryset"] = get_user_model().objects.filter(pk=request.user.pk)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        key, raw = api_key_create(
            user=data["user"], name=data["name"], scopes=data["scopes"], expires_at=data.get("expires_at"),
            actor=request.user,
        )  # fmt: skip
        obj.pk = key.pk
        obj.prefix = key.prefix
        self.message_user(
            request,
            f"API key created. Copy it now, it will not be shown again: {raw}",
            messages.WARNING,
        )

    def save_related(self, request, form, formsets, change):
        if change:
            super().save_related(request, form, formsets, change)

    @admin.action(description="Revoke selected keys", permissions=["change"])
    def revoke_keys(self, request, queryset):
        for key in queryset.filter(revoked_at__isnull=True):
            api_key_revoke(key=key, actor=request.user)
        self.message_user(request, "Keys revoked.")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["occurred_at", "actor_label", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["target_id", "actor_label", "action"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
