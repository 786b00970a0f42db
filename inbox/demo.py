"""Demo data for the inbox: a support team with business hours and SLA policies, response
templates and knowledge snippets in four languages, then conversations from realistic inbound
messages (some French, Spanish and Creole, one legal threat, one VIP) with pending drafts."""

import os
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from inbox.models import (
    Agent,
    BusinessHours,
    Conversation,
    KnowledgeSnippet,
    Priority,
    ResponseTemplate,
    SLAPolicy,
    Team,
)
from inbox.services.classification import inbound_classify
from inbox.services.conversations import conversation_ingest
from inbox.services.drafts import inbound_after_classification
from inbox.services.sla import sla_record_breaches
from madansara.channels.inbound import inbound_record
from madansara.channels.models import InboundMessage
from madansara.contacts.models import Contact, ContactIdentity, Tag
from madansara.roles import ROLE_AGENT

MARKER = "demo-inbox-"
DEMO_PASSWORD = os.environ.get("DEMO_ADMIN_PASSWORD", "madansara")  # the documented demo login
WEEKDAYS = {str(day): [["08:00", "18:00"]] for day in range(5)} | {"5": [["09:00", "13:00"]], "6": []}
AGENTS = [("agent", "Support"), ("nadege", "Support"), ("samuel", "Social")]
TEAMS = {"Support": ["email", "sms", "whatsapp"], "Social": ["instagram", "facebook", "x", "linkedin"]}

# (name, intent, language, body): pre-approved replies, Jinja2 with contact/agent/snippet variables.
TEMPLATES = [
    ("Pricing (en)", "pricing", "en", "Hello {{ contact.first_name }},\n\nThanks for asking about our plans.\n\n{{ snippet }}\n\nWould you like me to set up a 14-day trial?\n\n{{ agent.name }}"),
    ("Tarifs (fr)", "pricing", "fr", "Bonjour {{ contact.first_name }},\n\nMerci pour votre intérêt.\n\n{{ snippet }}\n\nVoulez-vous un essai gratuit de 14 jours ?\n\n{{ agent.name }}"),
    ("Precios (es)", "pricing", "es", "Hola {{ contact.first_name }},\n\nGracias por su interés.\n\n{{ snippet }}\n\n¿Le activo una prueba gratuita de 14 días?\n\n{{ agent.name }}"),
    ("Pri (ht)", "pricing", "ht", "Bonjou {{ contact.first_name }},\n\nMèsi paske ou enterese.\n\n{{ snippet }}\n\nÈske ou vle yon esè gratis 14 jou?\n\n{{ agent.name }}"),
    ("Support issue (en)", "support_issue", "en", "Hello {{ contact.first_name }},\n\nSorry for the trouble.\n\n{{ snippet }}\n\nIf it still fails, reply with a screenshot and I will look at it myself.\n\n{{ agent.name }}"),
    ("Problème (fr)", "support_issue", "fr", "Bonjour {{ contact.first_name }},\n\nDésolé pour ce souci.\n\n{{ snippet }}\n\nSi cela ne marche toujours pas, envoyez-nous une capture d'écran.\n\n{{ agent.name }}"),
    ("Meeting (en)", "meeting_request", "en", "Hello {{ contact.first_name }},\n\nWith pleasure. {{ snippet }}\n\n{{ agent.name }}"),
    ("Complaint (en)", "complaint", "en", "Hello {{ contact.first_name }},\n\nI am sorry: this should not have happened. {{ snippet }}\n\nI am following your case personally.\n\n{{ agent.name }}"),
    ("Thanks (en)", "positive_feedback", "en", "Thank you {{ contact.first_name }}, that means a lot to the team! 🙏"),
    ("Mèsi (ht)", "positive_feedback", "ht", "Mèsi anpil {{ contact.first_name }}, sa fè tout ekip la kontan! 🙏"),
]  # fmt: skip

# (title, intent, language, keywords, body): what the team knows, retrieved for drafts.
SNIPPETS = [
    ("Pro plan price", "pricing", "en", "price, pricing, cost, plan, discount, ngo", "The Pro plan is 49 USD per month (or 490 USD per year). Registered NGOs get 30% off every plan."),
    ("Prix du plan Pro", "pricing", "fr", "prix, tarif, plan, remise, ong, cout", "Le plan Pro coûte 49 USD par mois (ou 490 USD par an). Les ONG enregistrées ont 30 % de remise sur tous les plans."),
    ("Precio del plan Pro", "pricing", "es", "precio, plan, descuento, ong, cuesta", "El plan Pro cuesta 49 USD al mes (o 490 USD al año). Las ONG registradas tienen un 30 % de descuento."),
    ("Pri plan Pro", "pricing", "ht", "pri, konbyen, plan, rabè, ong", "Plan Pro a koute 49 USD pa mwa (oswa 490 USD pa ane). ONG ki anrejistre jwenn 30% rabè."),
    ("Double charge refund", "", "en", "refund, charged twice, double, payment", "When a payment was taken twice, we refund the second one within 3 business days; the bank may take 5 more days to show it."),
    ("Remboursement double paiement", "", "fr", "rembourse, deux fois, double, paiement, preleve", "Quand un paiement a été prélevé deux fois, nous remboursons le second sous 3 jours ouvrés ; la banque peut mettre 5 jours de plus."),
    ("Password reset", "support_issue", "en", "password, log in, login, reset, account", "After a reset, log in with the new password within 30 minutes; if it still fails, clear the browser's cookies for our site or use the “Sign in with a code” link."),
    ("Mot de passe", "support_issue", "fr", "mot de passe, connecter, connexion, compte", "Après une réinitialisation, connectez-vous dans les 30 minutes ; sinon videz les cookies du site ou utilisez « Recevoir un code »."),
    ("Reports page crash", "support_issue", "en", "crash, crashes, reports, app", "Version 4.2.1 of the app fixes the crash on the reports page: update from the store, then restart the app."),
    ("Opening hours", "", "en", "open, hours, saturday, time", "Our shop is open Monday to Friday 8:00–18:00 and Saturday 9:00–13:00 (Port-au-Prince time)."),
    ("Orè", "", "ht", "louvri, ki lè, samdi, orè", "Magazen an louvri lendi rive vandredi 8è–6è, ak samdi 9è–1è."),
    ("Delivery to Cap-Haïtien", "", "en", "deliver, delivery, cap-haitien, ship, shipping", "We deliver to Cap-Haïtien in 2 to 3 business days; delivery is free above 50 USD."),
    ("Livrezon Okap", "", "ht", "livre, livrezon, okap, cap-haitien", "Nou livre Okap nan 2 a 3 jou travay; livrezon gratis depi 50 USD."),
    ("Entrega", "", "es", "entrega, envio, enviar, pedido, llega", "Los pedidos llegan en 2 a 5 días hábiles; recibirá un enlace de seguimiento por SMS."),
    ("Order tracking", "", "en", "order, arrived, where, tracking", "Every order has a tracking link in its confirmation SMS; orders ship within 24 hours and arrive in 2 to 5 business days."),
    ("Spring promo", "", "en", "promo, code, spring, story", "The spring promo code SPRING20 gives 20% off until the end of the month, once per customer."),
    ("Demo booking", "meeting_request", "en", "demo, meeting, call, book", "You can pick a 30-minute demo slot that suits you here: https://madansara.example/demo"),
]  # fmt: skip

# (channel, subject, text, priority): what customers really write
MESSAGES = [
    (
        "email",
        "Question about pricing",
        "Hi, how much is the Pro plan per month? Do you offer a discount for NGOs?",
        "",
    ),
    ("email", "Refund", "I was charged twice for my subscription this month. Please refund the second payment.", ""),
    ("email", "Cannot log in", "Hello, I reset my password but I still cannot log in to my account. Can you help?", ""),
    ("email", "Unsubscribe", "Please remove me from your mailing list, I no longer want these emails.", ""),
    ("email", "Demo", "We are a team of 12 in Port-au-Prince. Could we book a demo next week?", ""),
    ("email", "Prix", "Bonjour, quel est le prix du plan Pro ? Avez-vous une remise pour les ONG ?", ""),
    (
        "email",
        "Facture",
        "Ceci est inacceptable, vous m'avez prélevé deux fois. Sans remboursement je contacte mon avocat.",
        "high",
    ),
    ("sms", "", "What time do you open on Saturday?", ""),
    ("sms", "", "STOP sending me messages", ""),
    ("sms", "", "My order #4411 has not arrived yet, where is it?", ""),
    ("sms", "", "Hola, ¿cuánto cuesta el plan Pro? ¿Hay descuento para ONG?", ""),
    ("whatsapp", "", "Bonjou! Èske nou livre Okap? Konbyen jou sa pran?", ""),
    ("whatsapp", "", "The app crashes every time I open the reports page. Very frustrating!", ""),
    ("whatsapp", "", "Thanks a lot, the team solved my problem quickly 🙏", ""),
    ("instagram", "", "Hi! Is the spring promo code still valid? I saw it in your story.", ""),
]


def seed_team(stdout) -> None:
    """Business hours, two teams, three agents (password `madansara`), SLA policies."""
    hours, _ = BusinessHours.objects.update_or_create(
        name="Port-au-Prince office", defaults={"timezone": "America/Port-au-Prince", "schedule": WEEKDAYS}
    )
    teams = {}
    for name, channels in TEAMS.items():
        teams[name], _ = Team.objects.update_or_create(
            name=name, defaults={"business_hours": None, "channels": channels}
        )
    users = get_user_model()
    for username, team in AGENTS:
        user, created = users.objects.get_or_create(
            username=username, defaults={"is_staff": True, "first_name": username.capitalize()}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=ROLE_AGENT))
        Agent.objects.update_or_create(user=user, defaults={"team": teams[team], "capacity": 25})
    policies = [
        ("Standard", None, "", 240, 480, 2880),
        ("Urgent", None, Priority.URGENT, 30, 60, 480),
        ("High priority", None, Priority.HIGH, 60, 120, 1440),
        ("Support office hours", teams["Support"], "", 120, 240, 2880),
    ]
    for name, team, priority, first, following, resolution in policies:
        SLAPolicy.objects.update_or_create(
            name=name,
            defaults={
                "team": team,
                "priority": priority,
                "business_hours": hours if team else None,
                "first_response_minutes": first,
                "next_response_minutes": following,
                "resolution_minutes": resolution,
            },
        )
    stdout.write(f"inbox: {len(AGENTS)} agents in {len(TEAMS)} teams, {len(policies)} SLA policies")


def seed_knowledge(stdout) -> None:
    for name, intent, language, body in TEMPLATES:
        ResponseTemplate.objects.update_or_create(
            name=name, defaults={"intent": intent, "language": language, "body": body, "is_approved": True}
        )
    for title, intent, language, keywords, body in SNIPPETS:
        KnowledgeSnippet.objects.update_or_create(
            title=title, defaults={"intent": intent, "language": language, "keywords": keywords, "body": body}
        )
    stdout.write(f"inbox: {len(TEMPLATES)} response templates, {len(SNIPPETS)} knowledge snippets (en, fr, es, ht)")


def _senders(channel: str, count: int) -> list[str]:
    return list(ContactIdentity.objects.filter(channel=channel).order_by("pk").values_list("value", flat=True)[:count])


@override_settings(ANTHROPIC_API_KEY="")  # the demo always uses the local classifier and composer
def seed_demo(stdout) -> None:
    """Team and knowledge first (drafts use them), then inbound messages through the channel
    layer: threaded, classified and drafted."""
    seed_team(stdout)
    seed_knowledge(stdout)
    if InboundMessage.objects.filter(external_id__startswith=MARKER).exists():
        stdout.write("inbox: demo conversations already present")
        return
    now = timezone.now()
    used: dict[str, int] = {}
    pending = 0
    with transaction.atomic():
        for n, (channel, subject, text, priority) in enumerate(MESSAGES):
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
                received_at=now - timedelta(minutes=50 * (len(MESSAGES) - n)),
            )
            if n == 0 and inbound.contact_id:  # a VIP asks about pricing
                Contact.objects.get(pk=inbound.contact_id).tags.add(Tag.objects.get_or_create(name="vip")[0])
            conversation = conversation_ingest(inbound=inbound, classify=False)
            if priority:
                Conversation.objects.filter(pk=conversation.pk).update(priority=priority)
            inbound_classify(inbound=inbound)
            pending += inbound_after_classification(inbound=inbound) is not None
    breaches = sla_record_breaches()
    stdout.write(f"inbox: {Conversation.objects.count()} conversations, {pending} drafts to review, {breaches} late")
