"""Security: an identify from the browser is trusted only when the site's server signed it.

The attack (issue #22): with nothing but the public site key, one POST /t/batch of `$identify`
events created 50 contacts (up to 500 per request) and attached an attacker's e-mail to an
existing contact (external id + `traits.email`), so later mail from that address landed on that
person's record. Now an identify needs hash = hex HMAC-SHA256(site.identity_secret, id) to be
stitched to a contact (like Intercom's identity verification); an unsigned one is only recorded
as an unverified claim on the visitor; identifies are capped per batch and per visitor.
"""

import json
import time

import pytest

from madansara.choices import Channel
from madansara.contacts.models import Contact, ContactIdentity
from website.ingest import identify
from website.ingest.identify import identity_hash
from website.models import WebsiteEvent, WebsiteVisitor
from website.tests.conftest import CHROME_UA

pytestmark = pytest.mark.django_db


def ident(visitor: str, identifier: str, **props) -> dict:
    return {
        "n": "$identify",
        "t": int(time.time() * 1000),
        "u": "https://shop.example.com/account",
        "a": visitor,
        "s": f"s-{visitor}",
        "p": {"id": identifier, **props},
    }


def post(client, site, events, ip="203.0.113.9"):
    body = json.dumps({"site": site.public_key, "events": events})
    return client.post(
        "/t/batch",
        data=body,
        content_type="text/plain",
        HTTP_USER_AGENT=CHROME_UA,
        HTTP_ORIGIN="https://shop.example.com",
        REMOTE_ADDR=ip,
    )


def test_one_unsigned_request_creates_no_contacts(client, site):
    events = [ident(f"v{n}", f"victim{n}@example.com", traits={"name": f"Victim {n}"}) for n in range(50)]

    response = post(client, site, events)

    assert response.status_code == 202
    assert Contact.objects.count() == 0
    assert WebsiteEvent.objects.filter(contact_id__isnull=False).count() == 0


def test_an_attackers_email_is_never_attached_to_an_existing_contact(client, site):
    victim = Contact.objects.create(name="Victim", external_id="crm-42")

    post(client, site, [ident("attacker", "crm-42", traits={"email": "attacker@evil.example"})])

    assert not ContactIdentity.objects.filter(value="attacker@evil.example").exists()
    assert victim.identities.count() == 0
    assert not WebsiteVisitor.objects.filter(contact=victim).exists()


def test_an_unsigned_identify_is_recorded_as_an_unverified_claim_on_the_visitor(client, site):
    post(client, site, [ident("v1", "ada@example.com", traits={"name": "Ada"})])

    visitor = WebsiteVisitor.objects.get(site=site, anonymous_id="v1")
    assert (visitor.contact_id, visitor.claimed_id, visitor.claimed_traits) == (
        None,
        "ada@example.com",
        {"name": "Ada"},
    )
    assert visitor.claimed_at is not None


def test_a_wrong_signature_or_another_sites_signature_is_not_trusted(client, site):
    from website.models import Site

    other = Site.objects.create(name="Other", domain="other.example.com", allowed_origins=["https://shop.example.com"])
    forged = [
        ident("v1", "ada@example.com", hash="0" * 64),
        ident("v2", "bob@example.com", hash=identity_hash(secret=other.identity_secret, identifier="bob@example.com")),
    ]

    post(client, site, forged)

    assert Contact.objects.count() == 0


def test_a_signed_identify_stitches_the_visitor_and_the_signature_is_not_stored(client, site):
    signed = identity_hash(secret=site.identity_secret, identifier="Ada@Example.com")

    response = post(client, site, [ident("v1", "Ada@Example.com", traits={"name": "Ada"}, hash=signed.upper())])

    assert response.json()["errors"] == []
    contact = ContactIdentity.objects.get(channel=Channel.EMAIL, value="ada@example.com").contact
    assert WebsiteVisitor.objects.get(anonymous_id="v1").contact == contact
    stored = WebsiteEvent.objects.get(name="$identify")
    assert stored.contact_id == contact.pk and "hash" not in stored.props


def test_a_signed_external_id_does_not_attach_an_unsigned_email_trait(client, site):
    victim = Contact.objects.create(name="Victim", external_id="crm-42")
    signed = identity_hash(secret=site.identity_secret, identifier="crm-42")

    post(client, site, [ident("v1", "crm-42", traits={"email": "attacker@evil.example"}, hash=signed)])

    assert WebsiteVisitor.objects.get(anonymous_id="v1").contact == victim
    assert victim.identities.count() == 0


def test_identifies_are_capped_per_batch(client, site):
    events = [
        ident(f"v{n}", f"u{n}", hash=identity_hash(secret=site.identity_secret, identifier=f"u{n}")) for n in range(50)
    ]

    response = post(client, site, events)

    assert Contact.objects.count() == identify.MAX_PER_BATCH
    assert [e["index"] for e in response.json()["errors"]] == list(range(identify.MAX_PER_BATCH, 50))


def test_identifies_are_rate_limited_per_visitor(client, site):
    for n in range(identify.PER_VISITOR_PER_HOUR + 3):
        response = post(client, site, [ident("v1", f"claim-{n}")])

    assert response.json()["errors"][0]["error"].startswith("At most")
    assert WebsiteEvent.objects.filter(name="$identify").count() == identify.PER_VISITOR_PER_HOUR


@pytest.mark.parametrize("identifier", ["", "   ", "x" * 256, 42, None])
def test_an_identify_without_a_usable_id_is_refused(client, site, identifier):
    response = post(client, site, [ident("v1", identifier)])

    assert response.json()["accepted"] == 0 and response.json()["errors"][0]["index"] == 0


def test_the_identity_secret_is_shown_only_to_those_who_may_change_the_site(client, site):
    from madansara.tests.factories import make_user

    shown = {}
    for role in ("Marketer", "Analyst"):
        client.force_login(make_user(role))
        shown[role] = site.identity_secret in client.get(f"/admin/website/site/{site.pk}/change/").content.decode()

    assert shown == {"Marketer": True, "Analyst": False}
