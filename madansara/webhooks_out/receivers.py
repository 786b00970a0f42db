"""An endpoint or API key saved or deleted empties the cache of active endpoints."""

from django.db.models.signals import post_delete, post_save

from madansara.models import APIKey
from madansara.webhooks_out.models import WebhookEndpoint
from madansara.webhooks_out.services import active_endpoints_forget

for model in (WebhookEndpoint, APIKey):  # a revoked key changes what its endpoints receive
    post_save.connect(active_endpoints_forget, sender=model, dispatch_uid=f"webhooks_out.forget.{model.__name__}")
    post_delete.connect(active_endpoints_forget, sender=model, dispatch_uid=f"webhooks_out.forget_del.{model.__name__}")
