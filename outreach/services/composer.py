"""Newsletters from a brief: a marketer gives a brief, the segment and optional sources (product
updates, posts) and gets a structured draft — subject options, preview text, sections, a call to
action — in the segment's language, as variants awaiting approval.

With an Anthropic key the LLM writes the structure (tool use, schema-checked); without one, or
when the LLM fails (timeout, malformed output), the local composer assembles it from the sources
and the template library (outreach.content_library). Either way nothing is sent before a person
approves a variant."""

import logging
import re

from django.db import transaction
from django.db.models import Count
from django.utils.html import escape

from madansara.llm import LLMError, llm_available, llm_structured
from outreach.content_library import LANGUAGES, frame
from outreach.models import (
    TEMPLATE_VARIABLES,
    ChannelTemplate,
    ContentDraft,
    Segment,
    TemplateVariant,
    VariantField,
)
from outreach.selectors import segment_contacts
from outreach.services.copy import variant_check

logger = logging.getLogger(__name__)

LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "ht": "Haitian Creole"}
MAX_SOURCES = 8
SUBJECT_MAX = 78
SHORT_CHANNEL_MAX = 300  # opening of an SMS/chat draft, before the call to action
_JINJA = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")

DRAFT_SCHEMA = {
    "type": "object",
    "properties": {
        "subject_options": {
            "type": "array",
            "items": {"type": "string", "minLength": 1, "maxLength": 150},
            "minItems": 1,
            "maxItems": 5,
        },
        "preview": {"type": "string", "maxLength": 200},
        "sections": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_SOURCES,
            "items": {
                "type": "object",
                "properties": {
                    "heading": {"type": "string", "minLength": 1},
                    "body": {"type": "string", "minLength": 1},
                    "link": {"type": "string"},
                },
                "required": ["heading", "body", "link"],
                "additionalProperties": False,
            },
        },
        "cta": {
            "type": "object",
            "properties": {"label": {"type": "string", "minLength": 1}, "link": {"type": "string"}},
            "required": ["label", "link"],
            "additionalProperties": False,
        },
    },
    "required": ["subject_options", "preview", "sections", "cta"],
    "additionalProperties": False,
}


# --- inputs --------------------------------------------------------------------------------------
def sources_clean(sources) -> list[dict]:
    """Sources as [{"title", "text", "link"}]: dicts, or strings whose first line is the title."""
    cleaned = []
    for source in list(sources or [])[:MAX_SOURCES]:
        if isinstance(source, str):
            lines = source.strip().splitlines()
            source = {"title": lines[0] if lines else "", "text": "\n".join(lines[1:]).strip()}
        title = " ".join(str(source.get("title", "")).split())
        text = str(source.get("text", "")).strip()
        if not (title or text):
            continue
        link = str(source.get("link", "")).strip()
        cleaned.append({"title": title or _first_sentence(text), "text": text, "link": link})
    return cleaned


def segment_language(segment: Segment | None) -> str:
    """The most common language (of en, fr, es, ht) among the segment's contacts; else en."""
    if segment is None:
        return "en"
    rows = segment_contacts(segment=segment).values("locale").annotate(n=Count("id")).order_by("-n")[:20]
    counts: dict[str, int] = {}
    for row in rows:
        language = (row["locale"] or "en").split("-")[0].split("_")[0].lower()
        counts[language] = counts.get(language, 0) + row["n"]
    known = {k: n for k, n in counts.items() if k in LANGUAGES}
    return max(known, key=known.get) if known else "en"


def _first_sentence(text: str) -> str:
    return _SENTENCE.split(text.strip(), maxsplit=1)[0] if text.strip() else ""


def _summary(text: str, limit: int = 280) -> str:
    """The first sentences of a source, up to `limit` characters (whole sentences)."""
    out = ""
    for sentence in _SENTENCE.split(" ".join(text.split())):
        if out and len(out) + len(sentence) + 1 > limit:
            break
        out = f"{out} {sentence}".strip()
    return out[:limit]


def _literal(text: str) -> str:
    """Marketer-supplied text as literal template text (no Jinja inside it)."""
    return text.replace("{{", "{ {").replace("{%", "{ %").replace("{#", "{ #")


def _fill(pattern: str, **values) -> str:
    for name, value in values.items():
        pattern = pattern.replace("{" + name + "}", str(value))
    return pattern


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


# --- the two writers ---------------------------------------------------------------------------------
def local_structure(*, brief: str, sources: list[dict], language: str, links: dict[str, str]) -> dict:
    """The draft assembled from the sources and the library frame of `language`."""
    words = frame(language)
    if not sources:  # the brief itself is the one piece of news
        sources = [{"title": _first_sentence(brief), "text": brief, "link": ""}]
    sections = []
    for source in sources:
        name = _link_name(source, links)
        sections.append(
            {"heading": _literal(source["title"]), "body": _literal(_summary(source["text"])), "link": name}
        )
    first = _literal(sources[0]["title"])
    subjects = [_short(first, SUBJECT_MAX)]
    if len(sources) > 1:
        subjects.append(_short(_fill(words["subject_more"], title=first, count=len(sources) - 1), SUBJECT_MAX + 20))
    subjects.append(_fill(words["subject_named"], title=_short(first, SUBJECT_MAX - 20)))
    subjects += [_short(_literal(s["title"]), SUBJECT_MAX) for s in sources[1:]]
    preview = _literal(_short(_first_sentence(sources[0]["text"]) or sources[0]["title"], 140))
    cta_link = next(iter(links), "")
    return {
        "subject_options": list(dict.fromkeys(s for s in subjects if s)),
        "preview": preview,
        "sections": sections,
        "cta": {"label": words["cta"] if len(sections) > 1 else words["read_more"], "link": cta_link},
    }


def llm_structure(*, brief: str, sources: list[dict], language: str, links: dict[str, str], channel: str):
    """(structure, model) written by the LLM; raises LLMError (timeouts, malformed output)."""
    language_name = LANGUAGE_NAMES.get(language, "English")
    system = (
        f"You write marketing newsletters in {language_name} for the {channel} channel. Use only facts "
        "stated in the brief and the sources: never invent prices, numbers, dates, guarantees or "
        "superlatives. You may greet with {{ contact.first_name }} only inside "
        "{% if contact.first_name %}…{% endif %}. Allowed variables: "
        f"{', '.join(sorted(TEMPLATE_VARIABLES))}. A section's link and the call to action's link are "
        f"one of these link names or empty: {', '.join(links) or '(none)'}."
    )
    listing = "\n\n".join(
        f"Source {i} ({name or 'no link'}): {s['title']}\n{s['text']}"
        for i, (s, name) in enumerate(((s, _link_name(s, links)) for s in sources), start=1)
    )
    result = llm_structured(
        system=system,
        messages=[{"role": "user", "content": f"Brief: {brief}\n\n{listing or 'No sources.'}"}],
        tool_name="record_newsletter",
        tool_schema=DRAFT_SCHEMA,
        max_tokens=2048,
    )
    data = result.data
    for section in data["sections"]:
        section["link"] = section["link"] if section["link"] in links else ""
    data["cta"]["link"] = data["cta"]["link"] if data["cta"]["link"] in links else ""
    return data, result.model[:32]


def _link_name(source: dict, links: dict[str, str]) -> str:
    return next((n for n, url in links.items() if url == source.get("link")), "")


# --- from structure to variants ----------------------------------------------------------------------
def _html_literal(text: str) -> str:
    """Escape text for HTML outside its Jinja tags (the tags stay as written)."""
    return "".join(part if _JINJA.fullmatch(part) else escape(part) for part in _JINJA.split(text))


def _body_text(structure: dict, words: dict) -> str:
    sections = structure["sections"]
    intro_key = "intro_many" if len(sections) > 1 else "intro_one"
    parts = [words["greeting"], _fill(words[intro_key], topic=sections[0]["heading"], count=len(sections))]
    for section in sections:
        block = f"{section['heading']}\n{section['body']}"
        if section["link"]:
            block += f"\n{words['read_more']}: {{{{ links.{section['link']} }}}}"
        parts.append(block)
    parts.append(words["signoff"])
    return "\n\n".join(parts)


def _body_html(structure: dict, words: dict) -> str:
    sections = structure["sections"]
    intro_key = "intro_many" if len(sections) > 1 else "intro_one"
    intro = _fill(words[intro_key], topic=sections[0]["heading"], count=len(sections))
    parts = [f"<p>{words['greeting']}</p>", f"<p>{_html_literal(intro)}</p>"]
    for section in sections:
        parts.append(f"<h2>{_html_literal(section['heading'])}</h2><p>{_html_literal(section['body'])}</p>")
        if section["link"]:
            parts.append(f'<p><a href="{{{{ links.{section["link"]} }}}}">{escape(words["read_more"])}</a></p>')
    parts.append(f"<p>{escape(words['signoff'])}</p>")
    return "\n".join(parts)


def _short_body(structure: dict, opening: str) -> str:
    """SMS and chat: the opening line and the first section's first sentence."""
    first = structure["sections"][0]
    sentence = _first_sentence(first["body"])
    return _short(f"{opening}: {sentence}" if sentence else opening, SHORT_CHANNEL_MAX)


def variant_copy(*, channel: str, structure: dict, subject: str, language: str) -> dict:
    """The TemplateVariant fields of one subject option of a draft, for a channel."""
    words = frame(language)
    cta = structure["cta"]
    copy = {"cta_label": cta["label"] if cta["link"] else "", "cta_link": cta["link"]}
    if channel == "email":
        return copy | {
            "subject": " ".join(subject.split()),
            "preview": structure["preview"],
            "body": _body_text(structure, words),
            "html": _body_html(structure, words),
        }
    return copy | {"body": _short_body(structure, subject)}


# --- the service -----------------------------------------------------------------------------------------
@transaction.atomic
def content_draft_compose(
    *,
    brief: str,
    template: ChannelTemplate,
    segment: Segment | None = None,
    sources=(),
    language: str = "",
    subject_count: int = 3,
    actor=None,
) -> ContentDraft:
    """A newsletter draft for `template`'s channel from a brief: one whole-message variant per
    subject option, each checked by the guards and awaiting approval."""
    sources = sources_clean(sources)
    links = {f"source_{i}": s["link"] for i, s in enumerate(sources, start=1) if s["link"]}
    language = (language or segment_language(segment)).lower()[:8]
    structure, model, error = None, "local", ""
    if llm_available():
        try:
            structure, model = llm_structure(
                brief=brief, sources=sources, language=language, links=links, channel=template.channel
            )
        except LLMError as exc:
            error = exc.message[:300]
            logger.warning("newsletter draft fell back to the local composer", extra={"error": error})
    if structure is None:
        structure = local_structure(brief=brief, sources=sources, language=language, links=links)
    structure["links"] = links
    draft = ContentDraft.objects.create(
        brief=brief,
        template=template,
        segment=segment,
        sources=sources,
        language=language,
        source=model,
        structure=structure,
        llm_error=error,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    for subject in structure["subject_options"][:subject_count]:
        variant = TemplateVariant.objects.create(
            template=template,
            field=VariantField.MESSAGE,
            draft=draft,
            language=language,
            source=model,
            brief=brief,
            **variant_copy(channel=template.channel, structure=structure, subject=subject, language=language),
        )
        variant_check(variant=variant)
    return draft
