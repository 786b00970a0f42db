from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Subquery
from django.shortcuts import render

from madansara.choices import Channel
from madansara.contacts.models import ConsentEvent, Contact, ContactConsent, ContactIdentity, Tag
from madansara.contacts.services import contact_erase, contact_merge
from madansara.forms import KeyValueField, ReadableJSONMixin


class IdentityInline(admin.TabularInline):
    model = ContactIdentity
    extra = 0
    fields = ["channel", "value", "is_valid", "invalid_reason", "last_inbound_at"]
    readonly_fields = ["last_inbound_at"]


class ConsentInline(admin.TabularInline):
    model = ContactConsent
    extra = 0
    fields = ["channel", "status", "source", "updated_at"]
    readonly_fields = fields  # changed through consent_set so that history is written

    def has_add_permission(self, request, obj=None):
        return False


class ConsentEventInline(admin.TabularInline):
    model = ConsentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["occurred_at", "channel", "status", "source", "note"]
    verbose_name_plural = "consent history"

    def has_add_permission(self, request, obj=None):
        return False


class MergeForm(forms.Form):
    survivor = forms.ModelChoiceField(queryset=Contact.objects.none(), help_text="The contact that remains")


@admin.register(Contact)
class ContactAdmin(ReadableJSONMixin, admin.ModelAdmin):
    """Apps above may re-register a subclass that adds their own columns (outreach: engagement)."""

    readable_json = {"attributes": KeyValueField}
    list_display = ["__str__", "email", "phone", "lifecycle_stage", "timezone", "created_at"]
    list_filter = ["lifecycle_stage", "tags", "consents__channel", "consents__status", "identities__channel"]
    # part of a name, an address or a number finds the person
    search_fields = ["name", "external_id", "identities__value"]
    filter_horizontal = ["tags"]
    readonly_fields = ["merged_into", "erased_at", "engagement_score", "created_at", "updated_at"]
    inlines = [IdentityInline, ConsentInline, ConsentEventInline]
    actions = ["merge_contacts", "erase_contacts"]
    list_per_page = 50
    show_full_result_count = False  # no COUNT(*) over a million rows on every page

    def get_queryset(self, request):
        identities = ContactIdentity.objects.filter(contact=OuterRef("pk")).order_by("pk")
        return (
            super()
            .get_queryset(request)
            .annotate(
                email_value=Subquery(identities.filter(channel=Channel.EMAIL).values("value")[:1]),
                phone_value=Subquery(
                    identities.filter(channel__in=[Channel.SMS, Channel.WHATSAPP]).values("value")[:1]
                ),
            )
        )

    @admin.display(description="E-mail", ordering="email_value")
    def email(self, contact):
        return getattr(contact, "email_value", None) or "—"

    @admin.display(description="Phone", ordering="phone_value")
    def phone(self, contact):
        return getattr(contact, "phone_value", None) or "—"

    @admin.action(description="Merge selected contacts into one", permissions=["change"])
    def merge_contacts(self, request, queryset):
        contacts = list(queryset.order_by("pk"))
        if len(contacts) < 2:
            self.message_user(request, "Select at least two contacts to merge.", messages.WARNING)
            return None
        form = MergeForm(request.POST if "survivor" in request.POST else None)
        form.fields["survivor"].queryset = queryset
        if form.is_valid():
            survivor = form.cleaned_data["survivor"]
            try:
                for loser in contacts:
                    if loser.pk != survivor.pk:
                        contact_merge(survivor=survivor, loser=loser, actor=request.user)
            except ValidationError as exc:
                self.message_user(request, "; ".join(exc.messages), messages.ERROR)
                return None
            self.message_user(request, f"Merged {len(contacts) - 1} contacts into {survivor}.")
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Merge contacts",
            "contacts": contacts,
            "form": form,
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": self.model._meta,
        }
        return render(request, "admin/contacts/contact/merge.html", context)

    @admin.action(description="Erase selected contacts (GDPR)", permissions=["delete"])
    def erase_contacts(self, request, queryset):
        erased = 0
        for contact in queryset.filter(erased_at__isnull=True):
            contact_erase(contact=contact, actor=request.user)
            erased += 1
        self.message_user(request, f"Erased {erased} contacts (personal data removed, aggregates kept).")


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]
