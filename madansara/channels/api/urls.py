from django.urls import path
from rest_framework.routers import DefaultRouter

from madansara.channels.api import views

router = DefaultRouter(trailing_slash=False)
router.register("messages", views.MessageViewSet, basename="message")
router.register("inbound-messages", views.InboundMessageViewSet, basename="inbound-message")
router.register("webhook-events", views.WebhookEventViewSet, basename="webhook-event")

urlpatterns = [
    path("channels/status", views.ChannelStatusView.as_view(), name="channel-status"),
    *router.urls,
]
