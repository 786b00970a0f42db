"""Parse and validate tracker batches (no database access here).

The wire format is the tracker's: {"site": key, "events": [{"n", "t", "u", "r", "a", "s", "p"}]}.
"""

import gzip
import json
import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from urllib.parse import urlsplit

import orjson

IDENTIFY_EVENT = "$identify"
MAX_EVENTS = 500
MAX_BODY_BYTES = 512 * 1024  # after decompression
MAX_COMPRESSED_BYTES = 256 * 1024
MAX_PROPS_BYTES = 4096
MAX_PAST = timedelta(days=7)  # a tracker retrying after a week offline is still accepted
MAX_FUTURE = timedelta(hours=1)  # client clocks drift
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_NAME = re.compile(r"^[^\x00-\x1f]{1,100}$")


class PayloadTooLarge(Exception):
    """The body (compressed or not) exceeds the limits: answer 413."""


class BadPayload(Exception):
    """The body is not a batch at all: answer 400."""


@dataclass
class ParsedBatch:
    site_key: str
    rows: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    identifies: list[tuple[int, dict]] = field(default_factory=list)  # (event index, row) of $identify events


def decode_body(body: bytes, content_encoding: str = "") -> dict:
    """Decompress (gzip/deflate, by header or magic bytes) within limits and parse JSON."""
    if len(body) > MAX_COMPRESSED_BYTES:
        raise PayloadTooLarge(f"Request bodies are limited to {MAX_COMPRESSED_BYTES} bytes.")
    encoding = content_encoding.lower().strip()
    if encoding in ("gzip", "deflate") or body[:2] == b"\x1f\x8b":
        wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
        decompressor = zlib.decompressobj(wbits)
        try:
            body = decompressor.decompress(body, MAX_BODY_BYTES + 1)
        except zlib.error as exc:
            raise BadPayload("The body is not valid gzip.") from exc
        if len(body) > MAX_BODY_BYTES or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"Decompressed bodies are limited to {MAX_BODY_BYTES} bytes.")
    elif len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request bodies are limited to {MAX_BODY_BYTES} bytes.")
    try:
        payload = orjson.loads(body)
    except (UnicodeDecodeError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
        raise BadPayload("The body is not valid JSON.") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("site"), str):
        raise BadPayload("Expected an object with a 'site' key and an 'events' list.")
    if not isinstance(payload.get("events"), list):
        raise BadPayload("'events' must be a list.")
    if len(payload["events"]) > MAX_EVENTS:
        raise PayloadTooLarge(f"At most {MAX_EVENTS} events per request.")
    return payload


def _text(event: dict, key: str, limit: int) -> str:
    value = event.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"'{key}' must be a string.")
    if "\x00" in value:  # PostgreSQL text cannot hold NUL: the whole COPY would fail
        raise ValueError(f"'{key}' must not contain NUL characters.")
    return value[:limit]


@lru_cache(maxsize=8192)
def _url_path(url: str) -> str | None:
    """The path of an absolute http(s) URL, None otherwise (cached: sites send the same pages)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return (parts.path or "/")[:500]


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def validate_event(event, *, now: datetime, cookieless_id: str) -> dict:
    """Return a storable row for one wire event; raises ValueError with the reason."""
    return _validate(event, now - MAX_PAST, now + MAX_FUTURE, cookieless_id, set(), set())


def _validate(event, earliest: datetime, latest: datetime, cookieless_id: str, names: set, ids: set) -> dict:
    """validate_event with the time bounds computed once per batch; `names` and `ids` hold the
    values already checked in this batch (a batch repeats its visitor, session and event names)."""
    if not isinstance(event, dict):
        raise ValueError("An event must be an object.")
    name = event.get("n")
    if type(name) is not str or name not in names:  # (a list or dict is not hashable: check the type first)
        if not isinstance(name, str) or not _NAME.match(name):
            raise ValueError("'n' (event name) is required: 1-100 printable characters.")
        names.add(name)
    ts = event.get("t")
    if type(ts) is not int and type(ts) is not float:  # orjson gives exact types; True is not a timestamp
        raise ValueError("'t' must be a timestamp in milliseconds.")
    try:
        occurred_at = datetime.fromtimestamp(ts / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError("'t' is out of range.") from exc
    if not earliest <= occurred_at <= latest:
        raise ValueError("'t' is more than 7 days in the past or 1 hour in the future.")
    url = _text(event, "u", 2000)
    path = _url_path(url)
    if path is None:
        raise ValueError("'u' must be an absolute http(s) URL.")
    visitor_id = event.get("a") or cookieless_id
    session_id = event.get("s") or cookieless_id
    for key, value in (("a", visitor_id), ("s", session_id)):
        if type(value) is not str or value not in ids:
            if not isinstance(value, str) or not _ID.match(value):
                raise ValueError(f"'{key}' must be 1-64 characters [A-Za-z0-9._:-].")
            ids.add(value)
    props = event.get("p") or {}
    if not isinstance(props, dict):
        raise ValueError("'p' (properties) must be an object.")
    try:
        encoded_props = orjson.dumps(props).decode()
    except orjson.JSONEncodeError as exc:  # e.g. integers beyond 64 bits
        raise ValueError("'p' (properties) must be plain JSON.") from exc
    if len(encoded_props) > MAX_PROPS_BYTES:
        raise ValueError(f"'p' is larger than {MAX_PROPS_BYTES} bytes.")
    if "\\u0000" in encoded_props and _has_nul(props):  # jsonb refuses NUL in strings
        raise ValueError("'p' must not contain NUL characters.")
    return {
        "name": name,
        "occurred_at": occurred_at,
        "url": url,
        "path": path,
        "referrer": _text(event, "r", 2000),
        "visitor_id": visitor_id,
        "session_id": session_id,
        "props": props,
        "props_json": encoded_props,
    }


def parse_batch(payload: dict, *, now: datetime, cookieless_id: str) -> ParsedBatch:
    """Validate every event; good ones become rows, bad ones are reported by index."""
    batch = ParsedBatch(site_key=payload["site"])
    earliest, latest, names, ids = now - MAX_PAST, now + MAX_FUTURE, set(), set()
    for index, event in enumerate(payload["events"]):
        try:
            row = _validate(event, earliest, latest, cookieless_id, names, ids)
        except ValueError as exc:
            batch.errors.append({"index": index, "error": str(exc)})
            continue
        batch.rows.append(row)
        if row["name"] == IDENTIFY_EVENT:
            batch.identifies.append((index, row))
    return batch


def gzip_json(payload: dict) -> bytes:
    """Helper for clients and tests: a gzip-compressed JSON body."""
    return gzip.compress(json.dumps(payload).encode())
