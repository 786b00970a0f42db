"""The sandbox provider: records what would be sent and answers like a real provider.

It is the default wherever credentials are missing, so the zero-config product works end to
end. Recipients can ask for failures, to exercise every path:
  - an address/handle containing "fail-permanent" → permanent error "sandbox_rejected"
  - containing "fail-transient" → transient error with retry_after=1
"""

import hashlib
from decimal import Decimal

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult

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
            status="sent",
            cost=SANDBOX_COST.get(self.channel, Decimal("0")),
        )
