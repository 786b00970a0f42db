"""What a campaign message says: templates rendered in the sandbox, tracked links, the
unsubscribe headers and footer, A/B subject lines and LLM-written variants (drafts until a
human approves them)."""

import hashlib
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from abtesting.services import variant_assign
from madansara.audit import audit_record
from madansara.choices import Channel
from madansara.llm import LLMError, llm_available, llm_structured
from madansara.templating import (
    LENGTH_LIMITS,
    SUBJECT_LIMIT,
    TemplateError,
    rendered_length_error,
    template_render,
    template_validate,
)
from outreach.models import TEMPLATE_VARIABLES, ChannelTemplate, OutboxMessage, TemplateVariant, VariantStatus

logger = logging.getLogger(__name__)

CLICK_SALT = "outreach.click"
UNSUBSCRIBE_SALT = "outreach.unsubscribe"


class ContentError(Exception):
    """The message cannot be rendered (a permanent error for this send)."""


@dataclass
class RenderedMessage:
    channel: str
    subject: str = ""
    html: str = ""
    text: str = ""
    template_name: str = ""
    template_variables: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)
    variant_key: str = ""


# --- tokens -------------------------------------------------------------------------------
def click_token(*, outbox_id: int, link: str) -> str:
    return signing.dumps({"o": outbox_id, "l": link}, salt=CLICK_SALT, compress=True)


def click_token_read(token: str) -> dict:
    """{"o": outbox id, "l": link name}; raises signing.BadSignature."""
    return signing.loads(token, salt=CLICK_SALT)


def unsubscribe_token(*, contact_id: int, channel: str, outbox_id: int | None = None) -> str:
    """A per-recipient signed token; it never expires (an old email's link must still work)."""
    return signing.dumps({"c": contact_id, "ch": channel, "o": outbox_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_token_read(token: str) -> dict:
    return signing.loads(token, salt=UNSUBSCRIBE_SALT)


_TOKEN_SLOT = "__token__"


@lru_cache(maxsize=32)
def _url_prefix(name: str, base: str, script_prefix: str, urlconf: str | None) -> str:
    path = reverse(name, args=[_TOKEN_SLOT], urlconf=urlconf)
    if not path.endswith(_TOKEN_SLOT):  # pragma: no cover - every tracking URL ends with its token
        raise ValueError(f"URL {name} does not end with its token")
    return f"{base}{path[: -len(_TOKEN_SLOT)]}"


def _url(name: str, token: str) -> str:
    """The public URL of a tracking view. Signed tokens only hold URL-safe characters, so the
    reversed prefix is cached (reverse() cost ~0.1 ms; a message has 2 or more links)."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _url_prefix(name, settings.PUBLIC_BASE_URL, get_script_prefix(), urlconf) + token


# --- rendering ------------------------------------------------------------------------------
def message_context(*, row: OutboxMessage) -> dict:
    """Variables a campaign template sees (see TEMPLATE_VARIABLES)."""
    contact, campaign = row.contact, row.campaign
    token = unsubscribe_token(contact_id=contact.pk, channel=row.channel, outbox_id=row.pk)
    return {
        "contact": {
            "name": contact.name,
            "first_name": (contact.name or "").split(" ")[0],
            "external_id": contact.external_id or "",
            "locale": contact.locale,
            "lifecycle_stage": contact.lifecycle_stage,
            "attributes": contact.attributes or {},
        },
        "campaign": {"name": campaign.name},
        "links": {
            name: _url("outreach:click", click_token(outbox_id=row.pk, link=name)) for name in (campaign.links or {})
        },
        "unsubscribe_url": _url("outreach:unsubscribe", token),
        "preferences_url": _url("outreach:unsubscribe", token),
        "company_address": settings.COMPANY_POSTAL_ADDRESS,
    }


_CACHE: dict = {}
CACHE_SECONDS = 10.0


@contextmanager
def content_cache():
    """Within a dispatcher run, templates and approved variants are read once per 10 s."""
    _CACHE.clear()
    _CACHE["on"] = True
    try:
        yield
    finally:
        _CACHE.clear()


def _cached(key, load):
    if not _CACHE.get("on"):
        return load()
    hit = _CACHE.get(key)
    if hit and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    value = load()
    _CACHE[key] = (time.monotonic(), value)
    return value


def _template_for(row: OutboxMessage) -> ChannelTemplate:
    template = _cached(
        ("template", row.step_id, row.channel),
        lambda: row.step.templates.filter(channel=row.channel).order_by("id").first(),
    )
    if template is None:
        raise ContentError(f"Step {row.step.position} has no {row.channel} template.")
    return template


def _subject_source(row: OutboxMessage, template: ChannelTemplate) -> tuple[str, str]:
    """The subject to use and the variant key: the A/B test's assignment when the campaign has
    a running subject test, else a deterministic pick among the original and approved variants."""
    test = row.campaign.subject_test
    if test is not None:
        variant = variant_assign(test=test, unit_id=f"contact:{row.contact_id}", contact_id=row.contact_id)
        subject = (variant.content or {}).get("subject")
        if subject:
            return subject, variant.key
    approved = _cached(
        ("variants", template.pk),
        lambda: list(
            template.variants.filter(field="subject", status=VariantStatus.APPROVED)
            .order_by("id")
            .values_list("id", "content")
        ),
    )
    if not approved:
        return template.subject, ""
    options = [(0, template.subject), *approved]
    digest = int(hashlib.sha256(f"{row.campaign_id}:{row.contact_id}".encode()).hexdigest()[:8], 16)
    variant_id, subject = options[digest % len(options)]
    return subject, f"v{variant_id}" if variant_id else ""


def message_render(*, row: OutboxMessage) -> RenderedMessage:
    """Render the step's template for the row's channel and contact; raises ContentError."""
    template = _template_for(row)
    context = message_context(row=row)
    try:
        if row.channel == Channel.EMAIL:
            subject_source, variant_key = _subject_source(row, template)
            subject = template_render(source=subject_source, context=context).strip()
            html = template_render(source=template.html, context=context, html=True) if template.html else ""
            text = template_render(source=template.text, context=context) if template.text else ""
            html, text = _email_footer(html=html, text=text, context=context)
            headers = {
                "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            rendered = RenderedMessage(
                channel=row.channel, subject=subject, html=html, text=text, headers=headers, variant_key=variant_key
            )
        elif row.channel == Channel.WHATSAPP and template.whatsapp_template:
            variables = {
                key: template_render(source=str(value), context=context)
                for key, value in (template.whatsapp_variables or {}).items()
            }
            rendered = RenderedMessage(
                channel=row.channel, template_name=template.whatsapp_template, template_variables=variables
            )
        else:
            rendered = RenderedMessage(channel=row.channel, text=template_render(source=template.text, context=context))
    except TemplateError as exc:
        raise ContentError(f"Template '{template.name}': {exc}") from exc
    for name in ("subject", "text"):
        error = rendered_length_error(channel=row.channel, field_name=name, text=getattr(rendered, name))
        if error:
            raise ContentError(error)
    return rendered


def _email_footer(*, html: str, text: str, context: dict) -> tuple[str, str]:
    """A visible unsubscribe link and the postal address, unless the template already has them."""
    url, address = context["unsubscribe_url"], context["company_address"]
    if html and url not in html:
        from django.utils.html import escape

        html += (
            f'<p style="font-size:12px;color:#666">{escape(address)}<br>'
            f'<a href="{escape(url)}">Unsubscribe or manage your preferences</a></p>'
        )
    if url not in text:
        text = f"{text}\n\n--\n{address}\nUnsubscribe: {url}".lstrip()
    return html, text


# --- LLM variants ---------------------------------------------------------------------------
VARIANT_SCHEMA = {
    "type": "object",
    "properties": {"variants": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 10}},
    "required": ["variants"],
    "additionalProperties": False,
}


def _limit(template: ChannelTemplate, field_name: str) -> int:
    return SUBJECT_LIMIT if field_name == "subject" else LENGTH_LIMITS.get(template.channel, 10000)


def _local_variants(base: str, count: int, brief: str) -> list[str]:
    """Simple rule-based variants when no LLM is configured."""
    offer = brief.strip().split(".")[0][:60] if brief else ""
    candidates = [
        f"{{{{ contact.first_name }}}}, {base[0].lower()}{base[1:]}" if base else base,
        f"{base} ({offer})" if offer else f"Last chance: {base}",
        f"Quick question: {base}",
        f"{base} — inside",
        f"Don't miss this: {base}",
    ]
    return [c for c in candidates if c and c != base][:count]


@transaction.atomic
def variants_generate(
    *, template: ChannelTemplate, field_name: str, brief: str, count: int = 3
) -> list[TemplateVariant]:
    """Draft `count` alternatives for the template's subject or text from a brief (brand voice,
    offer, audience). The Anthropic API writes them when configured, else a local fallback does.
    Invalid drafts (unknown variable, too long) are dropped. Drafts need approval before use."""
    base = getattr(template, field_name)
    limit = _limit(template, field_name)
    source = "local"
    texts: list[str] = []
    if llm_available():
        system = (
            "You write marketing message variants. Keep the brand voice of the brief, stay under "
            f"{limit} characters, keep any {{{{ variable }}}} placeholders exactly as written, and only use "
            f"these variables: {', '.join(sorted(TEMPLATE_VARIABLES))}."
        )
        prompt = f"Channel: {template.channel}\nField: {field_name}\nOriginal: {base}\nBrief: {brief}\nWrite {count}."
        try:
            result = llm_structured(
                system=system,
                messages=[{"role": "user", "content": prompt}],
                tool_name="record_variants",
                tool_schema=VARIANT_SCHEMA,
                max_tokens=1024,
            )
            texts, source = [str(v) for v in result.data["variants"]][:count], result.model[:32]
        except LLMError as exc:
            logger.warning("variant generation fell back to local", extra={"error": exc.message})
    if not texts:
        texts = _local_variants(base, count, brief)
    created = []
    for text in texts:
        text = " ".join(text.split()) if field_name == "subject" else text.strip()
        errors = template_validate(
            channel=template.channel, fields={field_name: text}, allowed_variables=TEMPLATE_VARIABLES
        )
        if errors or not text or len(text) > limit:
            continue
        created.append(
            TemplateVariant.objects.create(
                template=template, field=field_name, content=text, source=source, brief=brief
            )
        )
    return created


@transaction.atomic
def variant_approve(*, variant: TemplateVariant, actor=None) -> TemplateVariant:
    """A human approves a drafted variant: from now on it may be sent."""
    variant.status, variant.approved_at = VariantStatus.APPROVED, timezone.now()
    variant.approved_by = actor if getattr(actor, "is_authenticated", False) else None
    variant.save(update_fields=["status", "approved_at", "approved_by"])
    audit_record(actor=actor, action="variant.approve", target=variant)
    return variant


@transaction.atomic
def variant_reject(*, variant: TemplateVariant, actor=None) -> TemplateVariant:
    variant.status = VariantStatus.REJECTED
    variant.save(update_fields=["status"])
    audit_record(actor=actor, action="variant.reject", target=variant)
    return variant
