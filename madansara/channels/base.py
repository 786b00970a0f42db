"""The contract every provider adapter implements.

A provider turns an OutboundPayload into a SendResult or raises ProviderError, classified as
permanent (do not retry: bad address, unsubscribed, window closed, policy), transient (retry
later: 5xx, timeouts) or rate-limited (transient, retry after `retry_after` seconds: 429).
A provider that also runs social accounts (Meta, X, LinkedIn) has a PagesClient for an account's
posts, comments, mentions, engagers and insights, and for public replies and hiding comments.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from madansara.channels.models import MessageStatus


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
    status: str = MessageStatus.SENT  # or MessageStatus.QUEUED (accepted, delivery pending)
    cost: Decimal | None = None
    currency: str = "USD"
    raw: dict = field(default_factory=dict)


class ErrorKind(StrEnum):
    PERMANENT = "permanent"
    TRANSIENT = "transient"
    RATE_LIMITED = "rate_limited"


class ProviderError(Exception):
    """The one error type of every provider call (sends, reads, replies)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: str = "",
        retry_after: float | None = None,
        consent_revoked: bool = False,
        identity_invalid: bool = False,
        gone: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = str(code)
        self.retry_after = retry_after
        self.consent_revoked = consent_revoked  # e.g. Twilio 21610: the recipient unsubscribed
        self.identity_invalid = identity_invalid  # e.g. Twilio 21211: not a valid number
        self.gone = gone  # the object (post, comment) was deleted on the platform

    @property
    def kind(self) -> ErrorKind:
        """permanent, transient, or rate-limited (transient with a retry-after)."""
        if self.permanent:
            return ErrorKind.PERMANENT
        return ErrorKind.TRANSIENT if self.retry_after is None else ErrorKind.RATE_LIMITED


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


# --- social accounts: the typed records a PagesClient yields ---------------------------------
@dataclass
class PostData:
    external_id: str
    published_at: datetime
    text: str = ""
    url: str = ""
    media_type: str = ""
    metrics: dict = field(default_factory=dict)  # likes, comments_count, shares, saves, impressions, reach


@dataclass
class CommentData:
    external_id: str
    text: str
    author_id: str
    author_handle: str
    commented_at: datetime
    post_external_id: str = ""
    parent_external_id: str = ""
    author_followers: int = 0
    kind: str = "comment"  # comment, reply or mention


@dataclass
class EngagerData:
    """A person who liked or shared a post (platforms that list them)."""

    kind: str  # like or share
    author_id: str
    author_handle: str
    author_followers: int = 0


@dataclass
class InsightData:
    day: date
    reach: int = 0
    impressions: int = 0
    followers: int = 0
    engagements: int = 0
