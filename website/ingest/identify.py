"""Identify calls from the browser: trusted only when the site signed them.

The tracker runs on public pages with a public site key, so anything it sends can be forged. As
with Intercom's identity verification, the site's server computes
`hash = hex HMAC-SHA256(site.identity_secret, id)` for the logged-in user and the page calls
`ms.identify(id, traits, hash)`. A signed identify stitches the visitor to the contact with that
e-mail or external id (website.services.visitor_identify); an unsigned or wrongly signed one is
only recorded as a claim on the visitor (visitor_claim): it never creates a contact nor attaches
an identity to one. Identifies are also capped per batch and rate-limited per visitor.
"""

import hashlib
import hmac
import logging

import orjson
from django.core.cache import cache

from website.ingest.parse import ParsedBatch

logger = logging.getLogger(__name__)

MAX_PER_BATCH = 2
PER_VISITOR_PER_HOUR = 10
MAX_ID_LENGTH = 255


def identity_hash(*, secret: str, identifier: str) -> str:
    """What the site's server passes as ms.identify's third argument."""
    return hmac.new(secret.encode(), identifier.encode(), hashlib.sha256).hexdigest()


def _over_rate(site_id: int, visitor_id: str) -> bool:
    key = f"website:identify:{site_id}:{visitor_id}"
    try:
        if cache.add(key, 1, 3600):
            return False
        return cache.incr(key) > PER_VISITOR_PER_HOUR
    except Exception:
        logger.warning("website identify: rate limit unavailable", exc_info=True)
        return False


def _refusal(row: dict, secret: str, seen: int) -> str | None:
    """Why this identify event is refused, or None; marks the row verified or not."""
    if seen > MAX_PER_BATCH:
        return f"At most {MAX_PER_BATCH} identify events per batch."
    props = row["props"]
    identifier = props.get("id")
    if not isinstance(identifier, str) or not 0 < len(identifier.strip()) <= MAX_ID_LENGTH:
        return f"'p.id' (user id or e-mail) is required: 1-{MAX_ID_LENGTH} characters."
    if not isinstance(props.get("traits") or {}, dict):
        return "'p.traits' must be an object."
    signature = props.pop("hash", None)
    row["verified"] = isinstance(signature, str) and hmac.compare_digest(
        identity_hash(secret=secret, identifier=identifier), signature.lower()
    )
    if signature is not None:
        row["props_json"] = orjson.dumps(props).decode()  # the signature is not stored with the event
    return None


def identifies_screen(*, site_id: int, secret: str, batch: ParsedBatch) -> None:
    """Check the batch's identify events in place: each is marked verified (signed with the site's
    identity secret) or not; those over the limits or malformed become per-event errors."""
    refused = set()
    for seen, (index, row) in enumerate(batch.identifies, start=1):
        reason = _refusal(row, secret, seen) if secret else "Identify is not enabled for this site."
        if reason is None and _over_rate(site_id, row["visitor_id"]):
            reason = f"At most {PER_VISITOR_PER_HOUR} identify events per visitor per hour."
        if reason is not None:
            refused.add(id(row))
            batch.errors.append({"index": index, "error": reason})
    if refused:
        batch.rows = [row for row in batch.rows if id(row) not in refused]
        batch.errors.sort(key=lambda error: error["index"])
