from django.contrib import admin

from outreach.models import ConsentEvent, Contact, ContactConsent, ContactIdentity, Tag


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0
    fields = ["channel", "value", "is_valid", "last_inbound_at"]


class ConsentInline(admin.TabularInline):
    model = ContactConsent
    extra = 0
    fields = ["channel", "status", "source", "updated_at"]


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "channel", "status", "source", "note"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["__str__", "lifecycle_stage", "timezone", "engagement_score", "created_at"]
    list_filter = ["lifecycle_stage", "tags", "consents__channel", "consents__status"]
    search_fields = ["name", "external_id", "identities__value"]
    filter_horizontal = ["tags"]
    inlines = [IdentityInline, ConsentInline, ConsentEventInline]


admin.site.register(Tag)
