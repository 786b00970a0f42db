"""Guidance for AI drafts, learnt elsewhere and read by the draft composer without importing
the app that learns it (layers import downward only).

An app that learns how reviewers edit drafts registers a provider in its AppConfig.ready():

    guidance_provider_register(my_provider)   # my_provider(*, intent, channel, language) -> DraftGuidance

and the inbox asks `draft_guidance(intent=..., channel=..., language=...)`; with no provider
registered (or none that knows the case) the answer is empty guidance.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DraftGuidance:
    notes: list[str] = field(default_factory=list)  # lines for the LLM prompt
    max_length: int | None = None  # reviewers keep drafts of this case under this many characters

    def __bool__(self) -> bool:
        return bool(self.notes) or self.max_length is not None


_providers: list[Callable[..., DraftGuidance]] = []


def guidance_provider_register(provider: Callable[..., DraftGuidance]) -> None:
    """Add a provider (idempotent); providers are asked in registration order."""
    if provider not in _providers:
        _providers.append(provider)


def draft_guidance(*, intent: str, channel: str, language: str) -> DraftGuidance:
    """Merged guidance of every provider for drafts of this intent, channel and language; a
    failing provider is logged and skipped, never in the way of a draft."""
    notes: list[str] = []
    limits: list[int] = []
    for provider in _providers:
        try:
            found = provider(intent=intent, channel=channel, language=language)
        except Exception:
            logger.exception("draft guidance provider failed", extra={"provider": getattr(provider, "__name__", "?")})
            continue
        notes.extend(found.notes)
        if found.max_length:
            limits.append(found.max_length)
    return DraftGuidance(notes=notes, max_length=min(limits) if limits else None)
