"""madansara-client: typed sync/async client for the Madan Sara API, and webhook verification."""

from madansara_client._transport import MadanSaraError, RetryPolicy
from madansara_client.client import OPERATIONS, AsyncClient, Client
from madansara_client.webhooks import WebhookVerificationError, verify_webhook

__all__ = [
    "OPERATIONS",
    "AsyncClient",
    "Client",
    "MadanSaraError",
    "RetryPolicy",
    "WebhookVerificationError",
    "verify_webhook",
]
__version__ = "0.1.0"
