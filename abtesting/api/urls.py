from rest_framework.routers import DefaultRouter

from abtesting.api.views import ABTestViewSet

router = DefaultRouter(trailing_slash=False)
router.register("experiments", ABTestViewSet, basename="experiment")

urlpatterns = router.urls
