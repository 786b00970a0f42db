from rest_framework.routers import DefaultRouter

from outreach.api.campaigns import register as register_campaigns
from outreach.api.contacts import ContactViewSet

router = DefaultRouter(trailing_slash=False)
router.register("contacts", ContactViewSet, basename="contact")
register_campaigns(router)

urlpatterns = router.urls
