from django.urls import path
from rest_framework.routers import DefaultRouter

from bestpractices.api import views

router = DefaultRouter(trailing_slash=False)
router.register("best-practices", views.BestPracticeViewSet, basename="best-practice")
router.register("recommendations", views.RecommendationViewSet, basename="recommendation")
router.register("proposed-tests", views.ProposedTestViewSet, basename="proposed-test")
router.register("campaign-changes", views.CampaignChangeViewSet, basename="campaign-change")
router.register("draft-edit-patterns", views.DraftEditPatternViewSet, basename="draft-edit-pattern")

urlpatterns = [
    path("predictions", views.PredictionView.as_view(), name="prediction"),
    path(
        "campaigns/<int:campaign_id>/personalised-variant",
        views.PersonalisedVariantView.as_view(),
        name="personalised-variant",
    ),
    *router.urls,
]
