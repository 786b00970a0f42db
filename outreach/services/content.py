"""What a campaign message says: templates rendered in the sandbox, tracked links, the
unsubscribe headers and footer, A/B subject lines and LLM-written variants (drafts until a
human approves them)."""

import hashlib
import logging
import re
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import escape

from abtesting.models import ABTest, ABTestStatus, ABTestVariant
from abtesting.services import variant_assign
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
from outreach.models import (
    TEMPLATE_VARIABLES,
    ChannelTemplate,
    CopyAssignment,
    OutboxMessage,
    TemplateVariant,
    VariantStatus,
)

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


def _approved_variants(template: ChannelTemplate) -> list[TemplateVariant]:
    """The template's approved variants, oldest first (read once per 10 s in a dispatcher run)."""
    return _cached(
        ("variants", template.pk),
        lambda: list(template.variants.filter(status=VariantStatus.APPROVED).order_by("id")),
    )


def _copy_choice(row: OutboxMessage, template: ChannelTemplate) -> tuple[TemplateVariant | None, str]:
    """The approved variant to send this contact (None: the template's own copy) and the key the
    send carries. A campaign's copy experiment assigns arms through the experiment engine (after a
    rollout every contact gets the winner); without one, a deterministic pick among the original
    and the approved variants. Only approved variants are ever returned: an arm whose variant was
    rejected (or never approved) sends the original copy."""
    approved = _approved_variants(template)
    test_id = row.campaign.copy_test_id
    if test_id is not None:
        test = _cached(("copy_test", test_id), lambda: ABTest.objects.prefetch_related("variants").get(pk=test_id))
        arm = _personalised_arm(row, test) or variant_assign(
            test=test, unit_id=f"contact:{row.contact_id}", contact_id=row.contact_id
        )
        wanted = set((arm.content or {}).get("message_variants") or [])
        variant = next((v for v in approved if v.pk in wanted), None)
        return variant, f"{arm.key}/{variant.key}" if variant else arm.key
    if not approved:
        return None, ""
    options = [None, *approved]
    digest = int(hashlib.sha256(f"{row.campaign_id}:{row.contact_id}".encode()).hexdigest()[:8], 16)
    variant = options[digest % len(options)]
    return variant, variant.key if variant else ""


def _personalised_arm(row: OutboxMessage, test: ABTest) -> ABTestVariant | None:
    """The arm assigned to this contact after the experiment (see CopyAssignment), if any."""
    if not row.campaign.copy_personalised or test.status != ABTestStatus.ROLLED_OUT:
        return None
    key = (
        CopyAssignment.objects.filter(campaign_id=row.campaign_id, contact_id=row.contact_id)
        .values_list("arm", flat=True)
        .first()
    )
    return next((arm for arm in test.variants.all() if arm.key == key), None)


def _subject_test_choice(row: OutboxMessage) -> tuple[str, str]:
    """(subject, arm key) from the campaign's subject-line test, if it has one."""
    test = row.campaign.subject_test
    if test is None:
        return "", ""
    arm = variant_assign(test=test, unit_id=f"contact:{row.contact_id}", contact_id=row.contact_id)
    subject = (arm.content or {}).get("subject")
    return (subject, arm.key) if subject else ("", "")


@dataclass
class Copy:
    """The sources (Jinja2) of one message: the template's, with a variant's fields over them."""

    subject: str = ""
    preview: str = ""
    text: str = ""
    html: str = ""
    html_from_text: bool = False
    cta_label: str = ""
    cta_link: str = ""
    whatsapp_template: str = ""


def copy_of(*, template: ChannelTemplate, variant: TemplateVariant | None) -> Copy:
    """The copy a template sends with `variant` applied (None: the template as written)."""
    copy = Copy(
        subject=template.subject, text=template.text, html=template.html, whatsapp_template=template.whatsapp_template
    )
    if variant is None:
        return copy
    fields = variant.copy_fields()
    copy.subject = fields.get("subject") or copy.subject
    copy.preview = fields.get("preview", "")
    if fields.get("text"):
        copy.text = fields["text"]
        if template.html and not fields.get("html"):
            copy.html, copy.html_from_text = "", True  # the original HTML says the old copy
    copy.html = fields.get("html") or copy.html
    copy.cta_label, copy.cta_link = variant.cta_label, variant.cta_link
    copy.whatsapp_template = variant.whatsapp_template or copy.whatsapp_template
    return copy


def html_from_text(text: str) -> str:
    """Rendered plain text as simple HTML: escaped paragraphs, line breaks, links clickable."""
    paragraphs = []
    for block in text.strip().split("\n\n"):
        escaped = escape(block.strip())
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        paragraphs.append(f"<p>{linked.replace(chr(10), '<br>')}</p>")
    return "\n".join(paragraphs)


_URL = re.compile(r"https?://[^\s<>\"']+")


def _cta(copy: Copy, context: dict) -> tuple[str, str]:
    """(text line, HTML button) of the call to action, its link tracked."""
    if not (copy.cta_label and copy.cta_link):
        return "", ""
    try:
        url = context["links"][copy.cta_link]
    except KeyError:
        raise ContentError(
            f"The call to action links to '{copy.cta_link}', which is not a link of this campaign."
        ) from None
    label = template_render(source=copy.cta_label, context=context).strip()
    button = (
        f'<p><a href="{escape(url)}" style="display:inline-block;padding:10px 18px;background:#2563eb;'
        f'color:#fff;text-decoration:none;border-radius:4px">{escape(label)}</a></p>'
    )
    return f"{label}: {url}", button


def _preheader(preview: str) -> str:
    return f'<div style="display:none;max-height:0;overflow:hidden">{escape(preview)}</div>' if preview else ""


def copy_render(*, channel: str, copy: Copy, context: dict, whatsapp_variables: dict | None = None) -> RenderedMessage:
    """Render copy for one recipient's context (sandboxed Jinja2); raises ContentError."""
    try:
        if channel == Channel.EMAIL:
            subject = template_render(source=copy.subject, context=context).strip()
            text = template_render(source=copy.text, context=context) if copy.text else ""
            cta_text, cta_html = _cta(copy, context)
            if copy.html_from_text:
                html = html_from_text(text)
            else:
                html = template_render(source=copy.html, context=context, html=True) if copy.html else ""
            if html and (copy.preview or cta_html):
                preview = template_render(source=copy.preview, context=context) if copy.preview else ""
                html = _preheader(preview) + html + cta_html
            if cta_text:
                text = f"{text.rstrip()}\n\n{cta_text}"
            html, text = _email_footer(html=html, text=text, context=context)
            headers = {
                "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            }
            rendered = RenderedMessage(channel=channel, subject=subject, html=html, text=text, headers=headers)
        elif channel == Channel.WHATSAPP and copy.whatsapp_template:
            variables = {
                key: template_render(source=str(value), context=context)
                for key, value in (whatsapp_variables or {}).items()
            }
            rendered = RenderedMessage(
                channel=channel, template_name=copy.whatsapp_template, template_variables=variables
            )
        else:
            text = template_render(source=copy.text, context=context)
            cta_text, _ = _cta(copy, context)
            rendered = RenderedMessage(channel=channel, text=f"{text.rstrip()}\n{cta_text}" if cta_text else text)
    except TemplateError as exc:
        raise ContentError(str(exc)) from exc
    for name in ("subject", "text"):
        error = rendered_length_error(channel=channel, field_name=name, text=getattr(rendered, name))
        if error:
            raise ContentError(error)
    return rendered


def message_render(*, row: OutboxMessage) -> RenderedMessage:
    """Render the step's template for the row's channel and contact, with the approved variant
    the contact is assigned (see _copy_choice); raises ContentError."""
    template = _template_for(row)
    variant, variant_key = _copy_choice(row, template)
    copy = copy_of(template=template, variant=variant)
    if row.channel == Channel.EMAIL:
        subject, subject_key = _subject_test_choice(row)
        if subject:
            copy.subject, variant_key = subject, subject_key
    context = message_context(row=row)
    try:
        rendered = copy_render(
            channel=row.channel, copy=copy, context=context, whatsapp_variables=template.whatsapp_variables
        )
    except ContentError as exc:
        raise ContentError(f"Template '{template.name}': {exc}") from exc
    rendered.variant_key = variant_key
    return rendered


def _email_footer(*, html: str, text: str, context: dict) -> tuple[str, str]:
    """A visible unsubscribe link and the postal address, unless the template already has them."""
    url, address = context["unsubscribe_url"], context["company_address"]
    if html and url not in html:
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
