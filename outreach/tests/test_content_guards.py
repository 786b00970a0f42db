"""Guards on copy before approval: placeholders every recipient has data for, tracked links and
the unsubscribe footer, SMS segments and WhatsApp template rules, unsupported claims."""

import pytest

from outreach.models import ContentDraft, Segment, TemplateVariant
from outreach.services.copy import variant_check
from outreach.services.guards import sms_segments, unsupported_claims
from outreach.tests.campaign_helpers import contact, template

pytestmark = pytest.mark.django_db


def _variant(channel="email", segment=None, **fields):
    tpl = template(channel)
    draft = None
    if segment is not None:
        draft = ContentDraft.objects.create(brief=fields.pop("brief", ""), template=tpl, segment=segment, source="x")
    defaults = {"field": "message", "source": "person", "body": "Hello"}
    return TemplateVariant.objects.create(template=tpl, draft=draft, **(defaults | fields))


def test_placeholders_without_data_list_the_recipients_and_guarded_ones_do_not():
    with_data = contact(name="Ana Diaz", attributes={"plan": "gold"})
    no_name = contact(attributes={"plan": "silver"})
    no_name.name = ""
    no_name.save()
    no_plan = contact(name="Luc Pierre")
    segment = Segment.objects.create(name="all", is_static=True)
    segment.contacts.set([with_data, no_name, no_plan])

    variant = _variant(segment=segment, body="Hi {{ contact.first_name }}, your {{ contact.attributes.plan }} plan.")
    checks = variant_check(variant=variant)

    assert checks["missing"]["count"] == 2
    assert checks["missing"]["by_variable"] == {"contact.attributes.plan": 1, "contact.first_name": 1}
    listed = {row["id"]: row["missing"] for row in checks["missing"]["contacts"]}
    assert listed == {no_name.pk: ["contact.first_name"], no_plan.pk: ["contact.attributes.plan"]}
    assert any("2 recipient(s) lack data" in w for w in checks["warnings"])

    guarded = _variant(
        segment=segment,
        subject="News",  # the template's own subject prints the first name unguarded
        body="Hi {{ contact.first_name or 'there' }}{% if contact.attributes.plan %}, {{ contact.attributes.plan }}{% endif %}",
    )
    assert variant_check(variant=guarded)["missing"] == {}


def test_untracked_links_are_errors_and_tracked_ones_with_the_footer_pass():
    raw = _variant(body="Shop now: https://shop.example.com/sale", html='<a href="http://evil.example.com">x</a>')
    errors = variant_check(variant=raw)["errors"]
    assert any("untracked link https://shop.example.com/sale" in e for e in errors)
    assert any("untracked link http://evil.example.com" in e for e in errors)

    tracked = _variant(body="Shop now: {{ links.sale }}", html='<p><a href="{{ links.sale }}">Sale</a></p>')
    assert variant_check(variant=tracked)["errors"] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a" * 160, (1, "GSM-7")),
        ("a" * 161, (2, "GSM-7")),
        ("€" * 80, (1, "GSM-7")),  # extension characters count twice
        ("€" * 81, (2, "GSM-7")),
        ("é" * 160, (1, "GSM-7")),
        ("ú" * 70, (1, "UCS-2")),
        ("ú" * 71, (2, "UCS-2")),
        ("ú" * 135, (3, "UCS-2")),
    ],
)
def test_sms_segments_follow_gsm7_and_ucs2(text, expected):
    assert sms_segments(text) == expected


def test_sms_length_and_opt_out_rules():
    long_sms = _variant(channel="sms", body="Ma" + "ú" * 400)
    checks = variant_check(variant=long_sms)
    assert checks["sms_segments"] == 6 and any("6 segments (UCS-2)" in w for w in checks["warnings"])

    too_long = _variant(channel="sms", body="x" * 1700)
    assert any("over the sms limit of 1600" in e for e in variant_check(variant=too_long)["errors"])

    opt_out = _variant(channel="sms", body="New menu!")
    opt_out.template.text = "Hi {{ contact.first_name }}. Reply STOP to opt out"
    opt_out.template.save()
    assert (
        "sms: the original's opt-out line (STOP) is missing from this copy" in variant_check(variant=opt_out)["errors"]
    )


def test_whatsapp_template_rules():
    wa = template("whatsapp", text="", whatsapp_template="spring_menu", whatsapp_variables={"1": "{{ contact.name }}"})
    body_only = TemplateVariant.objects.create(template=wa, field="message", source="p", body="Free-form copy")
    assert any("must name its own approved WhatsApp template" in e for e in variant_check(variant=body_only)["errors"])

    bad_name = TemplateVariant.objects.create(
        template=wa, field="message", source="p", body="x", whatsapp_template="Spring Menu!"
    )
    assert any("lowercase letters" in e for e in variant_check(variant=bad_name)["errors"])

    good = TemplateVariant.objects.create(
        template=wa, field="message", source="p", body="x", whatsapp_template="spring_menu_b"
    )
    assert variant_check(variant=good)["errors"] == []


def test_claims_the_brief_does_not_support_are_flagged_for_the_reviewer():
    assert unsupported_claims(text="Free shipping and 50% off, guaranteed!", support="Spring sale") == [
        "50%",
        "free",
        "guaranteed",
    ]
    assert unsupported_claims(text="Free shipping and 50% off", support="Free shipping, 50% off all week") == []
    assert unsupported_claims(text="Livraison gratuite", support="Soldes", language="fr") == ["gratuite"]
    assert unsupported_claims(text="Hi {{ contact.first_name }}", support="") == []
    segment = Segment.objects.create(name="s", is_static=True)
    variant = _variant(segment=segment, brief="Spring sale", body="Best prices in town, 3 days only")
    assert variant_check(variant=variant)["claims"] == ["3", "best"]
