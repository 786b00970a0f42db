"""The website's part of contact erasure: what visitors claimed or sent about themselves.

Visitors, sessions and events stay (counts, paths, sources, times feed every report); the
person's traits, claimed ids, IP addresses and any URL or property holding their values go.
"""

from django.db.models import Q
from django.dispatch import receiver

from madansara.contacts.signals import contact_erased
from madansara.erasure import matching, search_forms
from website.ingest.parse import IDENTIFY_EVENT
from website.models import WebsiteEvent, WebsiteSession, WebsiteVisitor


@receiver(contact_erased, dispatch_uid="website.contact_erased")
def on_contact_erased(sender, contact, values: list[str], **kwargs) -> dict[str, int]:
    forms = search_forms(values)
    claimed = Q(pk__in=[])
    for value in values:
        claimed |= Q(claimed_id__iexact=value)
    visitor_ids = list(
        WebsiteVisitor.objects.filter(
            Q(contact_id=contact.pk)
            | claimed
            | Q(pk__in=matching(WebsiteVisitor.objects.all(), ["claimed_traits"], forms).values("pk"))
        ).values_list("pk", flat=True)
    )  # one person's browsers: few
    sessions = WebsiteSession.objects.filter(Q(contact_id=contact.pk) | Q(visitor_id__in=visitor_ids))
    # The event table is large: the person's rows by contact id, unlinked ones among identify events only.
    events = WebsiteEvent.objects.filter(contact_id=contact.pk)
    changed = {
        "website.websiteevent": events.exclude(ip="").update(ip=""),
        "website.websiteevent.props": WebsiteEvent.objects.filter(
            Q(pk__in=events.filter(name=IDENTIFY_EVENT).values("pk"))
            | Q(pk__in=matching(events, ["props"], forms).values("pk"))
            | Q(pk__in=matching(WebsiteEvent.objects.filter(name=IDENTIFY_EVENT), ["props"], forms).values("pk"))
        ).update(props={}, ip=""),
    }
    # URLs and paths are kept (page reports) unless they name the person; the session's full URLs go
    for field in ("url", "referrer", "path"):
        changed["website.websiteevent." + field] = matching(events, [field], forms).update(**{field: ""})
    for field in ("entry_path", "exit_path"):
        changed["website.websitesession." + field] = matching(sessions, [field], forms).update(**{field: ""})
    changed["website.websitesession"] = sessions.update(entry_url="", exit_url="", referrer="")
    changed["website.websitevisitor"] = WebsiteVisitor.objects.filter(pk__in=visitor_ids).update(
        claimed_id="", claimed_traits={}
    )
    return changed
