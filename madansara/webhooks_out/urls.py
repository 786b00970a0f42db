from rest_framework.routers import DefaultRouter

from madansara.webhooks_out.api import WebhookDeliveryViewSet, WebhookEndpointViewSet

router = DefaultRouter(trailing_slash=False)
router.register("webhooks/endpoints", WebhookEndpointViewSet, basename="webhook-endpoint")
router.register("webhooks/deliveries", WebhookDeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
