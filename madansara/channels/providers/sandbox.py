"""The sandbox provider: records what would be sent and answers like a real provider.

It is the default wherever credentials are missing, so the zero-config product works end to
end. Recipients can ask for failures, to exercise every path:
  - an address/handle containing "fail-permanent" → permanent error "sandbox_rejected"
  - containing "fail-transient" → transient error with retry_after=1
SandboxPages is the social account of the same zero-config product.
"""

import hashlib
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from madansara.channels.base import (
    CommentData,
    InsightData,
    OutboundPayload,
    PostData,
    Provider,
    ProviderError,
    SendResult,
)
from madansara.channels.models import MessageStatus
from madansara.channels.providers.pages import PagesClient

SANDBOX_COST = {
    "email": Decimal("0.00010"),
    "sms": Decimal("0.00790"),
    "whatsapp": Decimal("0.00500"),
}


class SandboxProvider(Provider):
    name = "sandbox"
    is_sandbox = True

    def __init__(self, channel: str):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return True

    def send(self, payload: OutboundPayload) -> SendResult:
        if "fail-permanent" in payload.to:
            raise ProviderError("Sandbox: recipient rejected", permanent=True, code="sandbox_rejected")
        if "fail-transient" in payload.to:
            raise ProviderError("Sandbox: try again later", permanent=False, code="sandbox_busy", retry_after=1)
        # Same message id → same provider id: a retried send is recognisable.
        digest = hashlib.sha256(payload.message_id.encode()).hexdigest()[:24]
        return SendResult(
            provider_message_id=f"sbx-{self.channel}-{digest}",
            status=MessageStatus.SENT,
            cost=SANDBOX_COST.get(self.channel, Decimal("0")),
        )


CAPTIONS = [
    "New season, new colours. Which one is your favourite?",
    "Behind the scenes at the market this morning.",
    "Our founder on why we build for small shops.",
    "Giveaway! Comment GUIDE to get our free pricing guide.",
    "Five tips to sell more on WhatsApp this week.",
    "Customer story: how Rose doubled her orders.",
]
COMMENTS = [
    ("Love this! 😍", "praise"),
    ("How much is the blue one?", "question"),
    ("GUIDE please", "purchase"),
    ("Do you ship to Cap-Haïtien?", "question"),
    ("My order never arrived, this is terrible.", "complaint"),
    ("Amazing work as always", "praise"),
    ("Check my profile for free followers!!! http://spam.example", "spam"),
    ("guide", "purchase"),
]
HANDLES = ["rose.boutique", "jean_b", "marie.pap", "ti.kafe", "lakay.style", "nadege_k", "pierre.h", "sandra.m"]


class SandboxPages(PagesClient):
    """A zero-config social account: believable posts, comments and insights, deterministic per
    account and day."""

    platform = "sandbox"

    def __init__(self, account, *, token: str = "", base_url: str = "sandbox://"):
        self.account = account

    def close(self) -> None:
        return None

    def _rng(self, *parts) -> random.Random:
        seed = hashlib.sha256("|".join(map(str, (self.account.pk, *parts))).encode()).hexdigest()
        return random.Random(int(seed[:16], 16))

    def iter_posts(self, *, since):
        now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        for index in range(6):
            published = now - timedelta(days=index * 2, hours=3)
            if since and published < since:
                return
            rng = self._rng("post", published.date())
            external_id = f"sbx-post-{self.account.pk}-{published:%Y%m%d}"
            reach = rng.randint(400, 5000)
            yield PostData(
                external_id=external_id,
                published_at=published,
                text=CAPTIONS[index % len(CAPTIONS)],
                url=f"https://sandbox.madansara.local/p/{external_id}",
                media_type="IMAGE",
                metrics={
                    "likes": rng.randint(10, reach // 10),
                    "comments_count": 4,
                    "shares": rng.randint(0, 40),
                    "saves": rng.randint(0, 60),
                    "impressions": int(reach * 1.4),
                    "reach": reach,
                },
            )

    def iter_comments(self, *, post_external_id):
        rng = self._rng("comments", post_external_id)
        base = datetime.now(UTC) - timedelta(hours=2)
        for index in range(4):
            text, _ = rng.choice(COMMENTS)
            handle = rng.choice(HANDLES)
            yield CommentData(
                external_id=f"{post_external_id}-c{index}",
                text=text,
                author_id=handle,
                author_handle=handle,
                author_followers=rng.randint(50, 20000),
                commented_at=base - timedelta(minutes=17 * index),
                post_external_id=post_external_id,
            )

    def iter_mentions(self, *, cursor):
        rng = self._rng("mention", datetime.now(UTC).date())
        handle = rng.choice(HANDLES)
        external_id = f"sbx-mention-{self.account.pk}-{datetime.now(UTC):%Y%m%d}"
        if cursor == external_id:
            return
        yield CommentData(
            external_id=external_id,
            text=f"Shopping with @{self.account.handle or 'brand'} today, love them!",
            author_id=handle,
            author_handle=handle,
            author_followers=rng.randint(100, 50000),
            commented_at=datetime.now(UTC) - timedelta(minutes=30),
            kind="mention",
        )

    def insights(self, *, since, until):
        rows, day = [], since
        followers = 1000 + (self.account.pk or 0) * 37
        while day <= until:
            rng = self._rng("insight", day)
            reach = rng.randint(800, 6000)
            followers += rng.randint(0, 25)
            rows.append(
                InsightData(
                    day=day,
                    reach=reach,
                    impressions=int(reach * rng.uniform(1.2, 1.8)),
                    followers=followers,
                    engagements=int(reach * rng.uniform(0.02, 0.09)),
                )
            )
            day += timedelta(days=1)
        return rows

    def reply_to_comment(self, *, comment_external_id, post_external_id, text):
        return f"sbx-reply-{hashlib.sha256(f'{comment_external_id}|{text}'.encode()).hexdigest()[:16]}"

    def hide_comment(self, *, comment_external_id):
        return None
