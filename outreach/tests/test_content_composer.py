"""Newsletters from a brief: the LLM through the real Anthropic SDK against a fake Messages API
on 127.0.0.1 (good, malformed and slow answers), and the local composer in en, fr, es and ht."""

import json
import time

import pytest
from werkzeug import Response

from outreach.models import Segment
from outreach.services.composer import content_draft_compose, segment_language
from outreach.services.copy import variant_check, variant_preview
from outreach.tests.campaign_helpers import campaign, contact, template

pytestmark = pytest.mark.django_db

SOURCES = {
    "en": [
        {"title": "New spring menu", "text": "Six new dishes arrive on March 1. Herbs come from local farms.",
         "link": "https://shop.example.com/menu"},
        {"title": "Longer opening hours", "text": "We now open at 7 am on weekdays."},
    ],
    "fr": [
        {"title": "Nouvelle carte de printemps", "text": "Six nouveaux plats arrivent le 1er mars. Les herbes viennent "
         "de fermes voisines.", "link": "https://shop.example.com/carte"},
        {"title": "Horaires élargis", "text": "Nous ouvrons désormais à 7 h en semaine."},
    ],
    "es": [
        {"title": "Nuevo menú de primavera", "text": "Seis platos nuevos llegan el 1 de marzo. Las hierbas vienen de "
         "granjas cercanas.", "link": "https://shop.example.com/menu-es"},
        {"title": "Horario ampliado", "text": "Ahora abrimos a las 7 entre semana."},
    ],
    "ht": [
        {"title": "Nouvo meni prentan", "text": "Sis nouvo plat ap rive 1 mas. Fèy yo soti nan fèm ki toupre.",
         "link": "https://shop.example.com/meni"},
        {"title": "Lè louvri pi long", "text": "Kounye a nou louvri a 7 è nan semèn nan."},
    ],
}  # fmt: skip
GREETING = {"en": "Hi Marie,", "fr": "Bonjour Marie,", "es": "Hola Marie:", "ht": "Bonjou Marie,"}
READ_MORE = {"en": "Read more", "fr": "En savoir plus", "es": "Leer más", "ht": "Li plis"}


def _segment(locale, n=3):
    people = [contact(locale=locale, name="Marie Joseph") for _ in range(n)]
    segment = Segment.objects.create(name=f"seg-{locale}-{people[0].pk}", is_static=True)
    segment.contacts.set(people)
    return segment, people


@pytest.mark.parametrize("language", ["en", "fr", "es", "ht"])
def test_the_local_composer_writes_the_draft_from_the_sources_in_the_segments_language(language, settings):
    settings.ANTHROPIC_API_KEY = ""
    segment, people = _segment(f"{language}-XX" if language != "ht" else "ht")
    assert segment_language(segment) == language
    email, sms = template("email"), template("sms")

    draft = content_draft_compose(brief="Spring news for regulars", template=email, segment=segment,
                                  sources=SOURCES[language])  # fmt: skip
    sms_draft = content_draft_compose(brief="Spring news", template=sms, segment=segment, sources=SOURCES[language])

    first, second = SOURCES[language]
    assert (draft.language, draft.source, draft.llm_error) == (language, "local", "")
    assert [s["heading"] for s in draft.structure["sections"]] == [first["title"], second["title"]]
    assert draft.structure["links"] == {"source_1": first["link"]}
    variants = list(draft.variants.order_by("id"))
    assert variants[0].subject == first["title"] and len(variants) == 3
    assert all(v.status == "draft" and v.checks["errors"] == [] for v in variants)
    # per-contact preview: the frame in the language, the sources' content, tracked links
    rendered = variant_preview(variant=variants[0], contact=people[0])
    assert rendered.text.startswith(GREETING[language])
    assert first["text"].split(". ")[0] in rendered.text and second["text"] in rendered.text
    assert f"{READ_MORE[language]}: http" in rendered.text and "/o/c/" in rendered.html
    assert first["link"] not in rendered.html
    # the SMS draft: a short message opening with a subject option, one segment
    sms_variant = sms_draft.variants.order_by("id").first()
    assert sms_variant.body.startswith(first["title"]) and sms_variant.checks["sms_segments"] in (1, 2, 3)
    assert variant_preview(variant=sms_variant, contact=people[0]).text.startswith(first["title"])


def test_a_contact_without_a_name_gets_the_fallback_and_unguarded_placeholders_list_them(settings):
    settings.ANTHROPIC_API_KEY = ""
    segment, people = _segment("fr")
    nameless = contact(locale="fr", name="")
    nameless.name = ""
    nameless.save()
    segment.contacts.add(nameless)
    draft = content_draft_compose(brief="x", template=template("email"), segment=segment, sources=SOURCES["fr"])
    variant = draft.variants.order_by("id").first()
    assert variant_preview(variant=variant, contact=nameless).text.startswith("Bonjour,")
    assert variant.checks["missing"] == {}  # the composer guards the name

    variant.body = "Bonjour {{ contact.first_name }} !"
    checks = variant_check(variant=variant, save=False)
    assert checks["missing"]["count"] == 1
    assert checks["missing"]["contacts"] == [
        {"id": nameless.pk, "name": f"#{nameless.pk}", "missing": ["contact.first_name"]}
    ]


# --- the LLM path, through the real SDK ------------------------------------------------------------
def message(tool_input, name="record_newsletter"):
    return {
        "id": "msg_01", "type": "message", "role": "assistant", "model": "claude-test-1",
        "content": [{"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input}],
        "stop_reason": "tool_use", "stop_sequence": None, "usage": {"input_tokens": 900, "output_tokens": 300},
    }  # fmt: skip


GOOD = {
    "subject_options": ["Le printemps arrive à table", "{% if contact.first_name %}{{ contact.first_name }}, {% endif %}six nouveaux plats"],
    "preview": "Six nouveaux plats le 1er mars",
    "sections": [
        {"heading": "Nouvelle carte", "body": "Six nouveaux plats arrivent le 1er mars.", "link": "source_1"},
        {"heading": "Horaires", "body": "Ouverture à 7 h en semaine, et 50 % de remise pour tous !", "link": "elsewhere"},
    ],
    "cta": {"label": "Voir la carte", "link": "source_1"},
}  # fmt: skip


@pytest.fixture
def anthropic_fake(httpserver, settings):
    settings.ANTHROPIC_API_KEY = "sk-ant-test"
    settings.ANTHROPIC_BASE_URL = httpserver.url_for("/")
    settings.ANTHROPIC_TIMEOUT_SECONDS = 0.5
    settings.ANTHROPIC_MODEL = "claude-test-1"
    return httpserver


def test_the_llm_writes_the_draft_in_the_segments_language_and_invented_claims_are_flagged(anthropic_fake):
    anthropic_fake.expect_request("/v1/messages", method="POST").respond_with_json(message(GOOD))
    segment, people = _segment("fr")
    draft = content_draft_compose(brief="Carte de printemps", template=template("email"), segment=segment,
                                  sources=SOURCES["fr"], subject_count=2)  # fmt: skip

    sent = json.loads(anthropic_fake.log[0][0].get_data())
    assert sent["tool_choice"] == {"type": "tool", "name": "record_newsletter"} and sent["tools"][0]["strict"]
    assert "French" in sent["system"] and "Nouvelle carte de printemps" in sent["messages"][0]["content"]
    assert (draft.source, draft.language, draft.llm_error) == ("claude-test-1", "fr", "")
    assert draft.structure["sections"][1]["link"] == ""  # a link name the LLM made up is dropped
    variants = list(draft.variants.order_by("id"))
    assert [v.subject for v in variants] == GOOD["subject_options"]
    assert variants[0].cta_label == "Voir la carte" and variants[0].cta_link == "source_1"
    assert "50 %" in variants[0].checks["claims"] or "50" in variants[0].checks["claims"]
    assert variant_preview(variant=variants[1], contact=people[0]).subject == "Marie, six nouveaux plats"


@pytest.mark.parametrize(
    "answer",
    [
        message({"subject_options": ["x"], "preview": "y"}),  # required fields missing
        message(GOOD | {"sections": "not a list"}),  # wrong type
        message(GOOD, name="some_other_tool"),  # another tool
        {**message(GOOD), "content": [{"type": "text", "text": "Here is your newsletter!"}]},  # no tool call
    ],
    ids=["missing-fields", "wrong-type", "wrong-tool", "text-only"],
)
def test_malformed_tool_output_falls_back_to_the_local_composer(anthropic_fake, answer):
    anthropic_fake.expect_request("/v1/messages").respond_with_json(answer)
    segment, _ = _segment("es")
    draft = content_draft_compose(brief="Primavera", template=template("email"), segment=segment,
                                  sources=SOURCES["es"])  # fmt: skip
    assert draft.source == "local" and draft.llm_error
    assert draft.variants.order_by("id").first().subject == "Nuevo menú de primavera"


def test_a_timeout_falls_back_to_the_local_composer(anthropic_fake):
    def slow(request):
        time.sleep(1.0)
        return Response(json.dumps(message(GOOD)), content_type="application/json")

    anthropic_fake.expect_request("/v1/messages").respond_with_handler(slow)
    segment, _ = _segment("ht")
    started = time.monotonic()
    draft = content_draft_compose(brief="Prentan", template=template("sms"), segment=segment, sources=SOURCES["ht"])
    assert time.monotonic() - started < 5
    assert (draft.source, draft.llm_error) == ("local", "LLM request timed out")
    assert draft.variants.order_by("id").first().body.startswith("Nouvo meni prentan")


def test_an_api_error_falls_back_and_says_why(anthropic_fake):
    anthropic_fake.expect_request("/v1/messages").respond_with_response(
        Response(
            json.dumps({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}),
            status=529,
            content_type="application/json",
        )  # fmt: skip
    )
    draft = content_draft_compose(brief="News", template=template("email"), sources=SOURCES["en"])
    assert draft.source == "local" and draft.llm_error == "LLM API error 529"


def test_preview_of_an_email_draft_in_a_campaign_uses_its_links(settings):
    settings.ANTHROPIC_API_KEY = ""
    person = contact(name="Marie Joseph")
    camp = campaign(contacts=[person], links={"source_1": "https://shop.example.com/menu"})
    draft = content_draft_compose(brief="x", template=camp.steps.get().templates.get(), sources=SOURCES["en"])
    rendered = variant_preview(variant=draft.variants.order_by("id").first(), contact=person, campaign=camp)
    assert "/o/c/" in rendered.html and "<h2>New spring menu</h2>" in rendered.html
