from django.urls import path
from rest_framework.routers import DefaultRouter

from website.api import views

router = DefaultRouter(trailing_slash=False)
router.register("website/sites", views.SiteViewSet, basename="website-site")
router.register("website/sessions", views.SessionViewSet, basename="website-session")
router.register("website/funnels", views.FunnelViewSet, basename="website-funnel")
router.register("website/recommendations", views.RecommendationViewSet, basename="website-recommendation")

urlpatterns = [
    path("website/stats/timeseries", views.TimeSeriesView.as_view(), name="website-timeseries"),
    path("website/stats/pages", views.TopPagesView.as_view(), name="website-pages"),
    path("website/stats/sources", views.TopSourcesView.as_view(), name="website-sources"),
    *router.urls,
]
