"""Demo data for the inbox: a dozen conversations from realistic inbound messages, with pending drafts."""

from datetime import timedelta

from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from inbox.models import Conversation
from inbox.services.classification import inbound_classify
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import inbound_after_classification
from madansara.channels.inbound import inbound_record
from madansara.channels.models import InboundMessage
from outreach.models import ContactIdentity

MARKER = "demo-inbox-"
# (channel, subject, text): what customers really write
MESSAGES = [
    ("email", "Question about pricing", "Hi, how much is the Pro plan per month? Do you offer a discount for NGOs?"),
    ("email", "Refund", "I was charged twice for my subscription this month. Please refund the second payment."),
    ("email", "Cannot log in", "Hello, I reset my password but I still cannot log in to my account. Can you help?"),
    ("email", "Unsubscribe", "Please remove me from your mailing list, I no longer want these emails."),
    ("email", "Demo", "We are a team of 12 in Port-au-Prince. Could we book a demo next week?"),
    ("sms", "", "What time do you open on Saturday?"),
    ("sms", "", "STOP sending me messages"),
    ("sms", "", "My order #4411 has not arrived yet, where is it?"),
    ("whatsapp", "", "Bonjou! Do you deliver to Cap-Haïtien? How long does it take?"),
    ("whatsapp", "", "The app crashes every time I open the reports page. Very frustrating!"),
    ("whatsapp", "", "Thanks a lot, the team solved my problem quickly 🙏"),
    ("instagram", "", "Hi! Is the spring promo code still valid? I saw it in your story."),
]


def _senders(channel: str, count: int) -> list[str]:
    return list(ContactIdentity.objects.filter(channel=channel).order_by("pk").values_list("value", flat=True)[:count])


@override_settings(ANTHROPIC_API_KEY="")  # the demo always uses the local classifier and templates
def seed_demo(stdout) -> None:
    """Record 12 inbound messages through the channel layer, thread, classify and draft them."""
    if InboundMessage.objects.filter(external_id__startswith=MARKER).exists():
        stdout.write("inbox: demo conversations already present")
        return
    now = timezone.now()
    used: dict[str, int] = {}
    pending = 0
    with transaction.atomic():
        for n, (channel, subject, text) in enumerate(MESSAGES):
            senders = _senders(channel, len(MESSAGES))
            index = used.get(channel, 0)
            used[channel] = index + 1
            sender = senders[index] if index < len(senders) else ""
            inbound, _ = inbound_record(
                channel=channel,
                external_id=f"{MARKER}{n}",
                sender=sender,
                subject=subject,
                text=text,
                received_at=now - timedelta(hours=3 * (len(MESSAGES) - n)),
            )
            conversation_ingest(inbound=inbound, classify=False)
            inbound_classify(inbound=inbound)
            pending += inbound_after_classification(inbound=inbound) is not None
    stdout.write(f"inbox: {Conversation.objects.count()} conversations, {pending} drafts to review")
