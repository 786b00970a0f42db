from django.urls import path
from rest_framework.routers import DefaultRouter

from outreach.api.campaigns import register as register_campaigns
from outreach.api.direct import DirectSendViewSet

router = DefaultRouter(trailing_slash=False)
router.register("outreach/sends", DirectSendViewSet, basename="direct-send")
register_campaigns(router)

urlpatterns = [
    path("outreach/send", DirectSendViewSet.as_view({"post": "create"}), name="direct-send-one"),
    *router.urls,
]
