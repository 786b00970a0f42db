from rest_framework.routers import DefaultRouter

from madansara.api.keys import APIKeyViewSet

router = DefaultRouter(trailing_slash=False)
router.register("api-keys", APIKeyViewSet, basename="api-key")

urlpatterns = router.urls
