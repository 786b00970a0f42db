"""Website chat: we are the provider. A reply is published to the visitor's open page (long-poll,
madansara/live.py); when the visitor is away and left an e-mail, it also goes there by e-mail.

The e-mail copy is best effort: the reply is already in the chat thread, where the visitor reads
it on return, so an e-mail failure is logged and recorded in the result, not retried."""

import logging

from madansara.channels.base import OutboundPayload, Provider, ProviderError, SendResult
from madansara.channels.chat import chat_deliver
from madansara.channels.models import ChatThread

logger = logging.getLogger(__name__)


class ChatProvider(Provider):
    name = "chat"
    channels = ("chat",)

    def __init__(self, channel: str = "chat"):
        self.channel = channel

    @classmethod
    def is_configured(cls) -> bool:
        return True

    def send(self, payload: OutboundPayload) -> SendResult:
        thread = ChatThread.objects.filter(key=payload.to).first()
        if thread is None:
            raise ProviderError("No chat thread with this key", permanent=True, code="no_thread", identity_invalid=True)
        raw = chat_deliver(thread=thread, message_id=payload.message_id, text=payload.text)
        return SendResult(provider_message_id=f"chat-{payload.message_id}", status="sent", raw=raw)
