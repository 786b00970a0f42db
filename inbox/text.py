"""Text plumbing for inbound messages: HTML to text, the customer's new words, language.

Quoted history and signatures are cut by `mail-parser-reply` (maintained, multi-language mail
client headers); HTML is reduced to text by `nh3` (already our sanitiser); the language comes
from `py3langid` restricted to the four languages we serve (it is one of the few offline
detectors that knows Haitian Creole: lingua has no `ht`).
"""

import html
import re
import unicodedata
from functools import cache

import nh3
from mailparser_reply import EmailReplyParser
from py3langid.langid import MODEL_FILE, LanguageIdentifier

LANGUAGES = ("en", "fr", "es", "ht")
_PARSER = EmailReplyParser(languages=["en", "fr", "es"])
_HTML_TAG = re.compile(r"<\s*/?\s*(html|body|div|p|br|span|table|td|tr|blockquote|a|b|i|strong|font)\b", re.I)
_HTML_BREAK = re.compile(r"<\s*(br\s*/?|/p|/div|/tr|/li|/h\d)\s*>", re.I)
# Headers mail-parser-reply misses (Spanish clients that bracket the address, bare ">" quotes).
_QUOTE_START = re.compile(
    r"^(>|on .{4,200}wrote:|le .{4,200}a écrit\s*:|el .{4,200}escribió:|-{3,}\s*original message\s*-{3,})",
    re.IGNORECASE,
)
_FORWARD = re.compile(
    r"^-{3,}\s*(forwarded message|message transféré|mensaje reenviado|original message)\s*-{3,}\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_HEADER_LINE = re.compile(r"^(from|de|date|fecha|subject|objet|asunto|to|à|para|cc|sent|envoyé|enviado)\s*:", re.I)
_URL = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(com|net|org|ht|do|fr|es|ly)(/\S*)?\b", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_DIGITS = re.compile(r"\d")
SHORT_NEW_PART = 12  # words: below this, a forwarded message's body is what the customer means


def html_to_text(text: str) -> str:
    """Plain text of an HTML body (quoted blocks, styles and scripts dropped); text unchanged."""
    if not _HTML_TAG.search(text or ""):
        return text or ""
    broken = _HTML_BREAK.sub("\n", text)
    stripped = nh3.clean(
        broken, tags=set(), attributes={}, clean_content_tags={"blockquote", "style", "script", "head", "title"}
    )
    lines = (line.strip() for line in html.unescape(stripped).splitlines())
    return "\n".join(line for line in lines if line)


def _cut_quotes(text: str) -> str:
    kept = []
    for line in text.splitlines():
        if _QUOTE_START.match(line.strip()):
            break
        kept.append(line)
    return "\n".join(kept).strip()


def _forwarded_body(text: str) -> str:
    match = _FORWARD.search(text)
    if not match:
        return ""
    lines = text[match.end() :].strip().splitlines()
    while lines and (_HEADER_LINE.match(lines[0].strip()) or not lines[0].strip()):
        lines.pop(0)
    return _cut_quotes("\n".join(lines))


def new_text(text: str) -> str:
    """The customer's own new words: HTML reduced, quoted history cut (forwarded bodies kept)."""
    plain = html_to_text(text or "").replace("\r\n", "\n").strip()
    if not plain:
        return ""
    reply = _cut_quotes(_PARSER.parse_reply(plain) or plain)
    reply = _FORWARD.split(reply)[0].strip() if _FORWARD.search(reply) else reply
    if len(reply.split()) < SHORT_NEW_PART:
        forwarded = _forwarded_body(plain)
        if forwarded:
            reply = f"{reply}\n{forwarded}".strip()
    return reply or _cut_quotes(plain) or plain


@cache
def _identifier():
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    identifier.set_languages(list(LANGUAGES))
    return identifier


def detect_language(text: str, default: str = "en") -> str:
    """ISO 639-1 code among en, fr, es, ht (`default` for text without letters)."""
    if not re.search(r"[^\W\d_]", text or ""):
        return default
    language, _ = _identifier().classify(text)
    return language


def fold(text: str) -> str:
    """Lower case, accents removed, URLs/e-mails/digits normalised (so "Ankò" = "anko")."""
    lowered = _EMAIL.sub(" emailaddr ", _URL.sub(" urladdr ", text.lower()))
    decomposed = unicodedata.normalize("NFKD", lowered)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_DIGITS.sub("0", plain).split())
