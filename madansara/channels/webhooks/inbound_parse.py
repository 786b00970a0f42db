"""SendGrid Inbound Parse (multipart) → a JSON-able dict; attachments saved, metadata kept."""

import hashlib
import json
from email.parser import HeaderParser
from email.utils import getaddresses, parseaddr

from django.core.files.storage import default_storage

MAX_ATTACHMENTS = 20


class InboundParseError(ValueError):
    pass


def _headers(raw: str) -> dict:
    parsed = HeaderParser().parsestr(raw or "", headersonly=True)
    return {
        "message_id": (parsed.get("Message-ID") or "").strip(),
        "in_reply_to": (parsed.get("In-Reply-To") or "").strip(),
        "references": " ".join((parsed.get("References") or "").split()),
        "date": (parsed.get("Date") or "").strip(),
        "auto_submitted": (parsed.get("Auto-Submitted") or "").strip(),
    }


def _attachments(request) -> list[dict]:
    info = {}
    try:
        info = json.loads(request.POST.get("attachment-info") or "{}")
    except ValueError:
        info = {}
    found = []
    for field, upload in list(request.FILES.items())[:MAX_ATTACHMENTS]:
        content = upload.read()
        digest = hashlib.sha256(content).hexdigest()
        name = (upload.name or field).replace("/", "_")[-100:]
        path = f"inbound/{digest[:2]}/{digest}/{name}"
        if not default_storage.exists(path):  # content-addressed: a redelivery stores nothing new
            path = default_storage.save(path, upload)
        meta = info.get(field, {}) if isinstance(info, dict) else {}
        found.append(
            {
                "filename": meta.get("filename") or upload.name,
                "content_type": meta.get("type") or upload.content_type,
                "size": len(content),
                "sha256": digest,
                "content_id": meta.get("content-id", ""),
                "path": path,
            }
        )
    return found


def parse_request(request) -> dict:
    """The fields the channel layer keeps from an Inbound Parse POST; raises InboundParseError."""
    if not request.content_type.startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
        raise InboundParseError("Expected multipart/form-data.")
    post = request.POST
    sender_name, sender = parseaddr(post.get("from", ""))
    if not sender or "@" not in sender:
        raise InboundParseError("A 'from' address is required.")
    try:
        envelope = json.loads(post.get("envelope") or "{}")
    except ValueError as exc:
        raise InboundParseError("'envelope' is not JSON.") from exc
    recipients = [addr for _, addr in getaddresses([post.get("to", "")]) if addr]
    return {
        "from": sender,
        "from_name": sender_name,
        "to": recipients,
        "subject": post.get("subject", ""),
        "text": post.get("text", ""),
        "html": post.get("html", ""),
        "headers": _headers(post.get("headers", "")),
        "envelope": envelope if isinstance(envelope, dict) else {},
        "spam_score": post.get("spam_score", ""),
        "attachments": _attachments(request),
    }
