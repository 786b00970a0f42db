"""Demo data for the website app: one site, two weeks of events, sessions, a funnel and its advice."""

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from website.classify import parse_client
from website.ingest.parse import validate_event
from website.models import FunnelDefinition, Site
from website.recommendations import recommendations_generate
from website.services import events_ingest, funnel_snapshot, sessions_rebuild

DEMO_SITE = "Madan Sara demo shop"
ORIGIN = "http://127.0.0.1:8000"
FUNNEL_STEPS = [{"url": "/pricing*"}, {"url": "/signup*"}, {"event": "signup_completed"}]
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
    "Mobile/15E148 Safari/604.1",
]
REFERRERS = ["", "https://www.google.com/", "https://www.facebook.com/", "https://news.example.org/article"]


def _visit(rng: random.Random, n: int, start) -> list[dict]:
    """One visit as wire events: landing, maybe pricing, maybe sign-up, maybe completion."""
    visitor, session = f"demo-v{n % 120}", f"demo-s{n}"
    at = start + timedelta(minutes=rng.randint(0, 14 * 24 * 60 - 90))
    pages = ["/", "/blog/whatsapp-tips"][rng.random() < 0.3 :][:1]
    if rng.random() < 0.6:
        pages.append("/pricing")
        if rng.random() < 0.5:
            pages.append("/signup")
    events = []
    for i, page in enumerate(pages):
        wire = {"n": "pageview", "t": 0, "u": ORIGIN + page, "a": visitor, "s": session}
        wire["r"] = rng.choice(REFERRERS) if i == 0 else ORIGIN + pages[i - 1]
        events.append((at + timedelta(seconds=40 * i), wire))
    if pages[-1] == "/signup" and rng.random() < 0.5:
        wire = {
            "n": "signup_completed",
            "t": 0,
            "u": ORIGIN + "/signup",
            "a": visitor,
            "s": session,
            "p": {"plan": "pro"},
        }
        events.append((at + timedelta(seconds=40 * len(pages)), wire))
    rows = []
    for when, wire in events:
        wire["t"] = int(when.timestamp() * 1000)
        rows.append(validate_event(wire, now=when, cookieless_id="unused"))
    return rows


def seed_demo(stdout) -> None:
    """One site with ~300 events over 14 days, sessions, a 3-step funnel with a snapshot, recommendations."""
    if Site.objects.filter(name=DEMO_SITE).exists():
        stdout.write("website: demo site already present")
        return
    rng = random.Random(42)
    now = timezone.now()
    start = now - timedelta(days=14)
    with transaction.atomic():
        site = Site.objects.create(name=DEMO_SITE, domain="127.0.0.1", allowed_origins=[ORIGIN])
        total = 0
        for n in range(150):
            rows = _visit(rng, n, start)
            agent = AGENTS[n % 2]
            total += events_ingest(
                site_id=site.pk, rows=rows, client=parse_client(agent), ip=f"10.0.{n % 7}.{n}"
            ).accepted
        sessions_rebuild(start=start - timedelta(days=1), end=now + timedelta(hours=1), site_id=site.pk)
        funnel = FunnelDefinition.objects.create(site=site, name="Pricing to sign-up", steps=FUNNEL_STEPS)
        funnel_snapshot(funnel=funnel, day=(now - timedelta(days=1)).date())
        advice = recommendations_generate(site_id=site.pk, start=start, end=now)
    stdout.write(f"website: {total} events, 1 funnel, {len(advice)} recommendations")
