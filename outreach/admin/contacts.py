"""The contact list with outreach's own column: engagement (opens, clicks and replies)."""

from django.contrib import admin
from django.db.models import F, OuterRef, Subquery, Sum

from madansara.contacts.admin import ContactAdmin as BaseContactAdmin
from madansara.contacts.models import Contact
from outreach.models import ContactEngagement

admin.site.unregister(Contact)


@admin.register(Contact)
class ContactAdmin(BaseContactAdmin):
    list_display = ["__str__", "email", "phone", "lifecycle_stage", "engagement", "timezone", "created_at"]

    def get_queryset(self, request):
        engaged = (
            ContactEngagement.objects.filter(contact=OuterRef("pk"))
            .order_by()
            .values("contact")
            .annotate(n=Sum(F("opened") + F("clicked") + F("replied")))
            .values("n")
        )
        return super().get_queryset(request).annotate(engagements=Subquery(engaged[:1]))

    @admin.display(description="Engagement", ordering="engagements")
    def engagement(self, contact):
        """Opens, clicks and replies recorded for the person on every channel."""
        return getattr(contact, "engagements", None) or 0
