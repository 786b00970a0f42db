"""The contract every channel provider implements.

A provider turns an OutboundPayload into a SendResult or raises ProviderError, classified as
permanent (do not retry: bad address, unsubscribed, window closed, policy) or transient
(retry later, honouring retry_after: 429, 5xx, timeouts).
"""

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass
class OutboundPayload:
    channel: str
    to: str  # normalised identity value (email, E.164, handle/id)
    message_id: str  # our id; travels to the provider so retries can be recognised
    text: str = ""
    html: str = ""
    subject: str = ""
    media_urls: list[str] = field(default_factory=list)
    template_name: str = ""  # e.g. WhatsApp ContentSid
    template_variables: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)  # Message-ID, In-Reply-To, References, List-Unsubscribe...
    reply_to: str = ""
    categories: list[str] = field(default_factory=list)
    human_approved: bool = False  # a human wrote or approved it (HUMAN_AGENT tag, LinkedIn)
    last_inbound_at: object = None  # datetime of the contact's last inbound message on this channel
    context: dict = field(default_factory=dict)  # channel-specific: {"comment_id": ..., "thread_id": ...}


@dataclass
class SendResult:
    provider_message_id: str
    status: str = "sent"  # "sent" or "queued" (accepted, delivery pending)
    cost: Decimal | None = None
    currency: str = "USD"
    raw: dict = field(default_factory=dict)


class ProviderError(Exception):
    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        retry_after: float | None = None,
        consent_revoked: bool = False,
        identity_invalid: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = str(code)
        self.retry_after = retry_after
        self.consent_revoked = consent_revoked  # e.g. Twilio 21610: the recipient unsubscribed
        self.identity_invalid = identity_invalid  # e.g. Twilio 21211: not a valid number


class Provider:
    """One class per provider; `name` identifies it in attempts and rate limits."""

    name = "base"
    channels: tuple[str, ...] = ()
    is_sandbox = False
    # Sends per second allowed for one provider account, shared by all workers (None: unlimited).
    rate_per_second: float | None = None
    burst: int = 1

    def rate_limit_keys(self, payload: OutboundPayload) -> list[str]:
        """Token buckets this send draws from (per provider account, per user where relevant)."""
        return [self.name]

    def send(self, payload: OutboundPayload) -> SendResult:
        raise NotImplementedError

    @classmethod
    def is_configured(cls) -> bool:
        """Are its credentials present in settings?"""
        return False
