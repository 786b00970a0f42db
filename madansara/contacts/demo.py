"""Demo contacts: a few hundred people with identities, consent, tags and attributes (upserted by
external_id, so seeding twice changes nothing)."""

import random
import unicodedata

from madansara.choices import Channel
from madansara.contacts.services import UpsertStatus, contacts_upsert

DEMO_CONTACTS = 300
FIRST = ["Aline", "Bruno", "Chantal", "Daniel", "Esther", "Fabiola", "Gérald", "Hélène", "Ivan", "Judith", "Kerline",
         "Louis", "Marie", "Nadège", "Olivier", "Paula", "Quentin", "Rose", "Samuel", "Tania", "Ulrick", "Vanessa"]  # fmt: skip
LAST = ["Alexis", "Baptiste", "Charles", "Dorsainvil", "Étienne", "Fils-Aimé", "Georges", "Hyppolite", "Jean",
        "Louis-Jeune", "Michel", "Noël", "Pierre", "Saint-Fleur", "Toussaint", "Vilsaint"]  # fmt: skip
ZONES = ["America/Port-au-Prince", "America/New_York", "Europe/Paris", "America/Montreal", "America/Chicago"]
TAGS = ["newsletter", "vip", "webinar-2026", "trial", "event:expo", "partner"]


def demo_contact_items(count: int = DEMO_CONTACTS, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for n in range(1, count + 1):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        ascii_name = unicodedata.normalize("NFKD", f"{first}.{last}").encode("ascii", "ignore").decode()
        slug = ascii_name.lower().replace(" ", "")
        identities = {Channel.EMAIL: f"{slug}{n}@example.com"}
        if rng.random() < 0.6:
            identities[Channel.SMS] = f"+1509{3000000 + n:07d}"  # Haitian mobile range
        if rng.random() < 0.4:
            identities[Channel.WHATSAPP] = identities.get(Channel.SMS) or f"+1202555{n:04d}"
        if rng.random() < 0.2:
            identities[Channel.INSTAGRAM] = f"{slug.replace('.', '_')}{n}"
        consents = {ch: rng.choices(["opted_in", "unknown", "unsubscribed"], [70, 22, 8])[0] for ch in identities}
        items.append({
            "external_id": f"demo-{n:04d}",
            "name": f"{first} {last}",
            "timezone": rng.choice(ZONES),
            "locale": rng.choice(["fr", "en", "ht"]),
            "lifecycle_stage": rng.choices(["lead", "prospect", "customer", "churned"], [45, 25, 22, 8])[0],
            "tags": rng.sample(TAGS, rng.randint(0, 2)),
            "attributes": {"city": rng.choice(["Port-au-Prince", "Cap-Haïtien", "Miami", "Montréal", "Paris"])},
            "identities": identities,
            "consents": consents,
        })  # fmt: skip
    return items


def seed_demo(stdout) -> None:
    results = contacts_upsert(items=demo_contact_items(), source="demo")
    created = sum(r.status == UpsertStatus.CREATED for r in results)
    errors = [r for r in results if r.status == UpsertStatus.ERROR]
    stdout.write(f"demo contacts: {created} created, {len(results) - created - len(errors)} already there")
    for result in errors[:5]:
        stdout.write(f"  demo contact {result.index}: {result.errors}")
