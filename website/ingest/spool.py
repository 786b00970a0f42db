"""A durable local spool for accepted batches the database could not take right now.

Each batch is one JSON file written to a temporary name, fsynced and renamed into place,
so a crash leaves either the whole batch or nothing. Files are flushed oldest first; the
flush records the batch id in the same transaction as the rows (exactly-once on replay).
The spool is on the web host's own disk, so the web process that wrote it drains it
(website.ingest.writer.SpoolDrainer); a file whose data is refused is moved to `quarantine/`
and the others go on.
"""

import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)
QUARANTINE = "quarantine"


def spool_dir() -> Path:
    """Where spooled batches live (setting WEBSITE_SPOOL_DIR, default VAR_DIR/website-spool)."""
    path = Path(settings.WEBSITE_SPOOL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _encode(value):
    if isinstance(value, datetime):
        return {"$dt": value.isoformat()}
    raise TypeError(type(value))


def _decode(obj):
    if "$dt" in obj and len(obj) == 1:
        return datetime.fromisoformat(obj["$dt"])
    return obj


def spool_write(*, site_id: int, rows: list[dict]) -> str:
    """Durably store one accepted batch; returns its batch id."""
    directory = spool_dir()
    batch_id = f"{datetime.now().strftime('%Y%m%d%H%M%S%f')}-{uuid.uuid4().hex}"
    temporary = directory / f".{batch_id}.tmp"
    data = json.dumps({"batch_id": batch_id, "site_id": site_id, "rows": rows}, default=_encode)
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.rename(temporary, directory / f"{batch_id}.json")
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
    return batch_id


def spool_pending() -> Iterator[Path]:
    """Spooled batch files, oldest first."""
    yield from sorted(spool_dir().glob("*.json"))


def spool_has_pending() -> bool:
    """Cheap check (one directory scan) used before flushing opportunistically."""
    with os.scandir(spool_dir()) as entries:
        return any(entry.name.endswith(".json") for entry in entries)


def spool_read(path: Path) -> dict:
    """Load one spooled batch: {"batch_id", "site_id", "rows"}."""
    return json.loads(path.read_text(encoding="utf-8"), object_hook=_decode)


def spool_quarantine(path: Path, *, reason: str) -> Path:
    """Set a batch file whose data is refused aside (QUARANTINE/ beside it) so the rest can go on."""
    target_dir = path.parent / QUARANTINE
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    os.replace(path, target)
    logger.error("website spool: %s quarantined (%s)", path.name, reason)
    return target


def spool_quarantined() -> list[Path]:
    """Batch files set aside by spool_quarantine (for operators and tests)."""
    return sorted((spool_dir() / QUARANTINE).glob("*.json"))
