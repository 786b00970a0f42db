"""The one LLM adapter: Anthropic Messages API, tool use with a strict JSON schema.

Callers get validated structured data or an `LLMError` saying whether a retry may help
(429, 5xx, timeouts, malformed or off-schema output are transient; auth and bad requests
are permanent). The SDK's own retries are off: callers (Celery tasks) own the retry policy.
"""

import logging
import time
from dataclasses import dataclass

import jsonschema
from django.conf import settings

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT_SECONDS = 30.0


@dataclass
class LLMResult:
    data: dict
    model: str
    latency_ms: int
    input_tokens: int
    output_tokens: int


class LLMError(Exception):
    def __init__(self, message: str, *, transient: bool, malformed: bool = False):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.malformed = malformed  # the model answered, but not with schema-valid tool input


def llm_available() -> bool:
    """Is an Anthropic API key configured?"""
    return bool(settings.ANTHROPIC_API_KEY)


# Strict tool schemas accept a subset of JSON Schema: these bounds are checked locally instead.
_LOCAL_ONLY_KEYWORDS = {
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
}


def _strict_subset(schema):
    """The schema sent to the API: without keywords strict mode rejects (still validated here)."""
    if isinstance(schema, dict):
        return {k: _strict_subset(v) for k, v in schema.items() if k not in _LOCAL_ONLY_KEYWORDS}
    if isinstance(schema, list):
        return [_strict_subset(v) for v in schema]
    return schema


def _client(timeout: float):
    import anthropic

    return anthropic.Anthropic(
        api_key=settings.ANTHROPIC_API_KEY,
        base_url=settings.ANTHROPIC_BASE_URL,
        max_retries=0,
        timeout=timeout,
    )


def _classify_sdk_error(exc: Exception) -> LLMError:
    import anthropic

    if isinstance(exc, anthropic.APITimeoutError):
        return LLMError("LLM request timed out", transient=True)
    if isinstance(exc, anthropic.APIConnectionError):
        return LLMError("LLM connection failed", transient=True)
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        transient = status in (408, 409, 429) or status >= 500
        return LLMError(f"LLM API error {status}", transient=transient)
    return LLMError(f"LLM call failed: {exc.__class__.__name__}", transient=True)


def llm_structured(
    *,
    system: str,
    messages: list[dict],
    tool_name: str,
    tool_schema: dict,
    max_tokens: int = 1024,
    model: str | None = None,
    timeout: float | None = None,
) -> LLMResult:
    """Ask the model to call `tool_name`; returns its input validated against `tool_schema`."""
    import anthropic

    if not llm_available():
        raise LLMError("No ANTHROPIC_API_KEY configured", transient=False)
    model = model or settings.ANTHROPIC_MODEL
    timeout = timeout or getattr(settings, "ANTHROPIC_TIMEOUT_SECONDS", DEFAULT_TIMEOUT_SECONDS)
    tool = {
        "name": tool_name,
        "description": f"Record the result as {tool_name}.",
        "input_schema": _strict_subset(tool_schema),
        "strict": True,
    }
    started = time.perf_counter()
    try:
        response = _client(timeout).messages.create(
            model=model,
            max_tokens=max_tokens,
            system=system,
            messages=messages,
            tools=[tool],
            tool_choice={"type": "tool", "name": tool_name},
        )
    except anthropic.AnthropicError as exc:
        error = _classify_sdk_error(exc)
        logger.warning("llm call failed", extra={"model": model, "error": error.message})
        raise error from exc
    latency_ms = int((time.perf_counter() - started) * 1000)
    blocks = [b for b in response.content if getattr(b, "type", "") == "tool_use" and b.name == tool_name]
    if not blocks or not isinstance(blocks[0].input, dict):
        raise LLMError("LLM answered without the requested tool call", transient=True, malformed=True)
    data = blocks[0].input
    try:
        jsonschema.validate(data, tool_schema)
    except jsonschema.ValidationError as exc:
        raise LLMError(f"LLM output off schema: {exc.message[:200]}", transient=True, malformed=True) from exc
    usage = getattr(response, "usage", None)
    return LLMResult(
        data=data,
        model=getattr(response, "model", model) or model,
        latency_ms=latency_ms,
        input_tokens=getattr(usage, "input_tokens", 0) or 0,
        output_tokens=getattr(usage, "output_tokens", 0) or 0,
    )
