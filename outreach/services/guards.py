"""Guards on message copy before a reviewer approves it: placeholders every recipient has data
for, links tracked and the unsubscribe footer kept, channel length rules (SMS segments,
WhatsApp template rules), and claims the brief and sources do not support.

`copy_check` returns findings as a dict stored on the variant: `errors` block approval,
`warnings` and `claims` are for the reviewer, `missing` lists recipients without the data a
placeholder needs (the preview shows them).
"""

import re
from dataclasses import dataclass, field

from django.db.models import Q, QuerySet

from madansara.choices import Channel
from madansara.contacts.models import Contact
from madansara.templating import template_validate
from outreach.models import TEMPLATE_VARIABLES, OutreachCampaign, TemplateVariant
from outreach.services.content import ContentError, Copy, copy_of, copy_render

LISTED_CONTACTS = 50  # recipients listed by name when data is missing (all are counted)
PREVIEW_TEXT_LIMIT = 140  # longer preheaders are cut by mail clients
SMS_SEGMENTS_WARN = 2  # a longer SMS costs (and is split) more than most campaigns expect
WHATSAPP_TEMPLATE_BODY = 1024  # Meta's limit of a template body
_URL = re.compile(r"https?://[^\s<>\"'{}]+", re.IGNORECASE)
_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.DOTALL)
_MISSING = re.compile(r"⟦missing:([\w.]+)⟧", re.IGNORECASE)
_OPT_OUT = re.compile(r"\b(STOP|ARRET|ARRÊT|PARA|BAJA)\b")
_WHATSAPP_NAME = re.compile(r"^(HX[0-9a-fA-F]{32}|[a-z0-9_]{1,512})$")

# GSM 03.38: the basic set costs one septet, the extension set two; anything else means UCS-2.
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")

# Words that make a promise; flagged when neither the brief nor the sources say them.
CLAIM_WORDS = {
    "en": ["free", "guaranteed", "guarantee", "best", "#1", "number one", "cheapest", "lowest price", "fastest",
           "proven", "risk-free", "cure", "clinically", "award-winning", "unlimited", "forever", "instant"],
    "fr": ["gratuit", "gratuite", "garanti", "garantie", "meilleur", "meilleure", "moins cher", "prouvé",
           "illimité", "sans risque", "le plus rapide", "à vie"],
    "es": ["gratis", "gratuito", "garantizado", "garantía", "mejor", "más barato", "probado", "ilimitado",
           "sin riesgo", "el más rápido", "para siempre"],
    "ht": ["gratis", "garanti", "pi bon", "pi bon mache", "pwouve", "san risk", "illimite", "pou tout tan"],
}  # fmt: skip
_NUMBER = re.compile(r"[$€£]\s?\d[\d.,]*|\d[\d.,]*\s?(?:%|\$|€|£|usd|eur|htg)?", re.IGNORECASE)


def sms_segments(text: str) -> tuple[int, str]:
    """(segments, encoding) of an SMS: GSM-7 160/153 septets, else UCS-2 70/67 characters."""
    if all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)  # UTF-16 code units
        single, multi, encoding = 70, 67, "UCS-2"
    if units <= single:
        return 1, encoding
    return -(-units // multi), encoding


class _Missing(str):
    """A contact value that is empty: prints as a marker, is false in `{% if %}` and `or`."""

    def __bool__(self):
        return False


class _MissingAttributes(dict):
    def __missing__(self, key):
        return _Missing(f"⟦missing:contact.attributes.{key}⟧")


def _probe_context() -> dict:
    """A context where every contact value is missing: markers left in the output are the
    placeholders printed without a fallback."""

    def marker(name):
        return _Missing(f"⟦missing:{name}⟧")

    class _Links(dict):
        def __missing__(self, key):
            return f"https://links.invalid/o/c/{key}"

    return {
        "contact": {
            name: marker(f"contact.{name}")
            for name in ("name", "first_name", "external_id", "locale", "lifecycle_stage")
        }
        | {"attributes": _MissingAttributes()},
        "campaign": {"name": "campaign"},
        "links": _Links(),
        "unsubscribe_url": "https://links.invalid/o/u/token",
        "preferences_url": "https://links.invalid/o/u/token",
        "company_address": "address",
    }


def unguarded_placeholders(*, channel: str, copy: Copy) -> set[str]:
    """Contact variables the copy prints without a fallback (`{% if %}` or `or` guard them)."""
    try:
        rendered = copy_render(channel=channel, copy=copy, context=_probe_context())
    except ContentError:
        return set()  # reported by the syntax and length checks
    found = _MISSING.findall(" ".join([rendered.subject, rendered.text, rendered.html]))
    return {name.lower() for name in found}


def _missing_q(variable: str) -> Q | None:
    """Contacts without the data `variable` prints (set-based)."""
    if variable in ("contact.name", "contact.first_name"):
        return Q(name="")
    if variable == "contact.external_id":
        return Q(external_id__isnull=True) | Q(external_id="")
    if variable in ("contact.locale", "contact.lifecycle_stage"):
        return Q(**{variable.split(".", 1)[1]: ""})
    if variable.startswith("contact.attributes."):
        key = variable.split(".", 2)[2]
        return ~Q(attributes__has_key=key) | Q(**{f"attributes__{key}": ""})
    return None


def missing_data(*, variables: set[str], contacts: QuerySet[Contact]) -> dict:
    """{"count": n, "by_variable": {var: n}, "contacts": [{"id", "name", "missing": [...]}]}."""
    conditions = {v: q for v in sorted(variables) if (q := _missing_q(v)) is not None}
    if not conditions:
        return {"count": 0, "by_variable": {}, "contacts": []}
    any_missing = Q()
    for q in conditions.values():
        any_missing |= q
    by_variable = {v: contacts.filter(q).count() for v, q in conditions.items()}
    listed = []
    for contact in contacts.filter(any_missing).order_by("pk")[:LISTED_CONTACTS]:
        gaps = [v for v, q in conditions.items() if Contact.objects.filter(q, pk=contact.pk).exists()]
        listed.append({"id": contact.pk, "name": contact.name or f"#{contact.pk}", "missing": gaps})
    return {"count": contacts.filter(any_missing).count(), "by_variable": by_variable, "contacts": listed}


def unsupported_claims(*, text: str, support: str, language: str = "en") -> list[str]:
    """Numbers, prices and promise words in `text` that `support` (brief, sources, original) lacks."""
    plain = _JINJA.sub(" ", text).lower()
    support = support.lower()
    claims = []
    for number in _NUMBER.findall(plain):
        number = number.strip(" .,")
        digits = re.sub(r"\D", "", number)
        if digits and digits not in re.sub(r"\D", " ", support).split():
            claims.append(number)
    words = CLAIM_WORDS.get(language, []) + (CLAIM_WORDS["en"] if language != "en" else [])
    for word in words:
        pattern = rf"(?<!\w){re.escape(word)}(?!\w)"
        if re.search(pattern, plain) and not re.search(pattern, support):
            claims.append(word)
    return sorted(set(claims), key=claims.index)


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)
    missing: dict = field(default_factory=dict)
    sms_segments: int | None = None

    def as_dict(self) -> dict:
        return {
            "errors": self.errors,
            "warnings": self.warnings,
            "claims": self.claims,
            "missing": self.missing,
            "sms_segments": self.sms_segments,
        }


def _sample_render(variant: TemplateVariant, copy: Copy, findings: Findings):
    """Render for a contact with every field filled (the longest plausible values)."""
    context = _sample_context()
    try:
        return copy_render(
            channel=variant.template.channel,
            copy=copy,
            context=context,
            whatsapp_variables=variant.template.whatsapp_variables,
        ), context
    except ContentError as exc:
        findings.errors.append(str(exc))
        return None, context


class _FilledAttributes(dict):
    def __missing__(self, key):
        return "value"


def _sample_context() -> dict:
    class _Links(dict):
        def __missing__(self, key):
            return f"https://mail.example.com/o/c/{'t' * 60}{key}"

    unsubscribe = "https://mail.example.com/o/u/" + "u" * 80
    return {
        "contact": {
            "name": "Alexandrine Marie-Josée Delacroix-Beaumont",
            "first_name": "Alexandrine",
            "external_id": "x" * 12,
            "locale": "en",
            "lifecycle_stage": "customer",
            "attributes": _FilledAttributes(),
        },
        "campaign": {"name": "Campaign"},
        "links": _Links(),
        "unsubscribe_url": unsubscribe,
        "preferences_url": unsubscribe,
        "company_address": "1 Example Street, Springfield",
    }


def copy_check(
    *,
    variant: TemplateVariant,
    contacts: QuerySet[Contact] | None = None,
    support: str = "",
    campaign: OutreachCampaign | None = None,
) -> dict:
    """Every finding on a variant's copy (see module doc); `support` is the brief and sources."""
    template = variant.template
    channel = template.channel
    findings = Findings()
    fields = variant.copy_fields()
    findings.errors += template_validate(channel=channel, fields=fields, allowed_variables=TEMPLATE_VARIABLES)
    if variant.cta_link and not re.fullmatch(r"[\w-]+", variant.cta_link):
        findings.errors.append(f"cta_link: '{variant.cta_link}' is not a link name")
    if campaign is not None and variant.cta_link and variant.cta_link not in (campaign.links or {}):
        findings.errors.append(f"cta_link: '{variant.cta_link}' is not a link of campaign '{campaign.name}'")
    for name, source in fields.items():
        for url in _URL.findall(_JINJA.sub(" ", source)):
            findings.errors.append(
                f"{name}: untracked link {url} — add it to the campaign's links and write {{{{ links.name }}}}"
            )
    copy = copy_of(template=template, variant=variant)
    _channel_rules(variant, copy, findings)
    if findings.errors:
        return findings.as_dict()
    rendered, context = _sample_render(variant, copy, findings)
    if rendered is not None:
        _rendered_rules(channel, copy, rendered, context, findings)
    variables = unguarded_placeholders(channel=channel, copy=copy)
    if contacts is not None and variables:
        findings.missing = missing_data(variables=variables, contacts=contacts)
        if findings.missing["count"]:
            names = ", ".join(f"{v} ({n})" for v, n in findings.missing["by_variable"].items() if n)
            findings.warnings.append(f"{findings.missing['count']} recipient(s) lack data for: {names}")
    text = " ".join(fields.values())
    original = " ".join(template.source_fields().values())
    findings.claims = unsupported_claims(text=text, support=f"{support}\n{original}", language=variant.language or "en")
    return findings.as_dict()


def _channel_rules(variant: TemplateVariant, copy: Copy, findings: Findings) -> None:
    template = variant.template
    if template.channel == Channel.WHATSAPP and template.whatsapp_template:
        if variant.copy_fields().get("text") and not variant.whatsapp_template:
            findings.errors.append(
                f"whatsapp: business-initiated sends use the approved template '{template.whatsapp_template}'; "
                "a copy variant must name its own approved WhatsApp template"
            )
        if variant.whatsapp_template and not _WHATSAPP_NAME.match(variant.whatsapp_template):
            findings.errors.append(
                "whatsapp: a template is named in lowercase letters, digits and _ (or a ContentSid HX…)"
            )
    if template.channel == Channel.WHATSAPP and len(copy.text) > WHATSAPP_TEMPLATE_BODY and copy.whatsapp_template:
        findings.errors.append(f"whatsapp: a template body holds at most {WHATSAPP_TEMPLATE_BODY} characters")
    if template.channel == Channel.SMS and _OPT_OUT.search(template.text) and not _OPT_OUT.search(copy.text):
        findings.errors.append("sms: the original's opt-out line (STOP) is missing from this copy")
    if template.channel != Channel.EMAIL and (variant.subject or variant.preview or variant.html):
        findings.warnings.append(f"{template.channel}: subject, preview and HTML are not sent on this channel")
    if len(copy.preview) > PREVIEW_TEXT_LIMIT:
        findings.warnings.append(f"preview: {len(copy.preview)} characters; clients show about {PREVIEW_TEXT_LIMIT}")


def _rendered_rules(channel: str, copy: Copy, rendered, context: dict, findings: Findings) -> None:
    if channel == Channel.EMAIL:
        url = context["unsubscribe_url"]
        if url not in rendered.text or (rendered.html and url not in rendered.html):
            findings.errors.append("email: the unsubscribe link is missing")
    if channel == Channel.SMS:
        segments, encoding = sms_segments(rendered.text)
        findings.sms_segments = segments
        if segments > SMS_SEGMENTS_WARN:
            findings.warnings.append(f"sms: {segments} segments ({encoding}) for the longest recipient")
    if channel == Channel.WHATSAPP and rendered.template_name:
        for key, value in rendered.template_variables.items():
            if "\n" in value or "\t" in value or "    " in value:
                findings.errors.append(f"whatsapp: variable {key} has a new line, a tab or 4 spaces (Meta rejects it)")
    for link in re.findall(r'href="([^"]+)"', rendered.html):
        if link.startswith("http") and "/o/c/" not in link and "/o/u/" not in link:
            findings.errors.append(f"html: untracked link {link}")


def check_is_blocking(checks: dict) -> bool:
    return bool((checks or {}).get("errors"))
