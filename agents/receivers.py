"""The agents' event feed listens to the apps below (imported by madansara's receivers autodiscovery).

In contact erasure, the agents blank the personal part of the outbound webhook bodies they wrote
(see agents.events: sender, subject, text, to): the deliveries stay (event, endpoint, status,
attempts), and a pending retry no longer carries the person's data either. Held action requests
that quote the person are redacted.
"""

import json

from django.db.models import Q
from django.dispatch import receiver

from agents import events
from agents.models import AgentActionRequest
from inbox.models import Conversation, ReplyDraft
from madansara.contacts.signals import contact_erased
from madansara.erasure import redact, redact_rows, search_forms
from madansara.webhooks_out.models import WebhookDelivery

events.connect()


PERSONAL_KEYS = {"sender", "subject", "text", "to"}


def _mentions(key: str, ids) -> Q:
    """Compact JSON bodies (webhook_event_emit) naming one of these ids under `key`."""
    query = Q(pk__in=[])
    for pk in ids:
        query |= Q(body__contains=f'"{key}":{pk},') | Q(body__contains=f'"{key}":{pk}}}')
    return query


@receiver(contact_erased, dispatch_uid="agents.contact_erased")
def on_contact_erased(sender, contact, values, **kwargs) -> dict[str, int]:
    forms = search_forms(values)
    conversations = list(Conversation.objects.filter(contact_id=contact.pk).values_list("pk", flat=True))
    drafts = list(ReplyDraft.objects.filter(conversation_id__in=conversations).values_list("pk", flat=True))
    query = _mentions("contact_id", [contact.pk]) | _mentions("conversation_id", conversations)
    query |= _mentions("draft_id", drafts)
    for form in forms:
        query |= Q(body__icontains=form)
    changed = []
    for delivery in WebhookDelivery.objects.filter(query).only("pk", "body"):  # one person's events: few
        try:
            event = json.loads(delivery.body)
        except ValueError:
            event = None
        if isinstance(event, dict) and isinstance(event.get("data"), dict):
            event["data"] = {key: value for key, value in event["data"].items() if key not in PERSONAL_KEYS}
            body = json.dumps(redact(event, forms), separators=(",", ":"))
        else:
            body = redact(delivery.body, forms)
        if body != delivery.body:
            delivery.body = body
            changed.append(delivery)
    WebhookDelivery.objects.bulk_update(changed, ["body"])
    return {
        "webhooks_out.webhookdelivery": len(changed),
        # held actions quoting the person (a conversion's external id made of an e-mail)
        "agents.agentactionrequest": redact_rows(
            AgentActionRequest.objects.all(), ["arguments", "result", "error"], forms
        ),
    }
