"""Public endpoints reached from messages: click tracking and unsubscribe (no login)."""

import logging

from django.core import signing
from django.http import HttpResponse, HttpResponseBadRequest, HttpResponseNotFound, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from madansara.choices import Channel
from madansara.contacts.models import ConsentStatus, Contact
from outreach.models import OutboxMessage
from outreach.services.content import click_token_read, unsubscribe_token_read
from outreach.services.tracking import click_record, preferences_set

logger = logging.getLogger(__name__)


@require_GET
def click(request, token: str):
    """Record the click on a campaign link and redirect to its target."""
    try:
        data = click_token_read(token)
    except signing.BadSignature:
        return HttpResponseNotFound("Unknown link.")
    row = OutboxMessage.objects.select_related("campaign", "message").filter(pk=data["o"]).first()
    target = (row.campaign.links or {}).get(data["l"]) if row else None
    if not target:
        return HttpResponseNotFound("Unknown link.")
    click_record(row=row, link=data["l"])
    return HttpResponseRedirect(target)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """RFC 8058: a POST with `List-Unsubscribe=One-Click` unsubscribes at once (no cookie, no
    login). GET shows the preference page; its form POSTs the chosen channels back here."""
    try:
        data = unsubscribe_token_read(token)
    except signing.BadSignature:
        return HttpResponseBadRequest("This unsubscribe link is not valid.")
    contact = Contact.objects.filter(pk=data["c"]).first()
    if contact is None:
        return HttpResponseNotFound("Unknown recipient.")
    if request.method == "POST":
        if request.POST.get("List-Unsubscribe") == "One-Click" or "unsubscribe_all" in request.POST:
            channels = [data["ch"]] if "unsubscribe_all" not in request.POST else list(Channel.values)
            preferences_set(
                contact=contact, unsubscribe=channels, source="one-click" if len(channels) == 1 else "preferences"
            )
            if request.POST.get("List-Unsubscribe") == "One-Click":
                return HttpResponse("Unsubscribed.", content_type="text/plain")
        else:
            keep = set(request.POST.getlist("channel"))
            current = {c.channel for c in contact.consents.all()} | {data["ch"]}
            preferences_set(
                contact=contact,
                unsubscribe=sorted(current - keep),
                resubscribe=sorted(keep & current),
                source="preferences",
            )
        saved = True
    else:
        saved = False
    consents = {c.channel: c.status for c in contact.consents.all()}
    channels = sorted(set(consents) | {data["ch"]})
    rows = [
        {"value": ch, "label": Channel(ch).label, "subscribed": consents.get(ch) != ConsentStatus.UNSUBSCRIBED}
        for ch in channels
    ]
    return render(request, "outreach/preferences.html", {"rows": rows, "saved": saved, "token": token})
