from rest_framework.routers import DefaultRouter

from madansara.contacts.api.views import ContactViewSet

router = DefaultRouter(trailing_slash=False)
router.register("contacts", ContactViewSet, basename="contact")

urlpatterns = router.urls
