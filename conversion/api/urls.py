from django.urls import path
from rest_framework.routers import DefaultRouter

from conversion.api import views

router = DefaultRouter(trailing_slash=False)
router.register("conversions", views.ConversionViewSet, basename="conversion")
router.register("channel-performance", views.ChannelPerformanceViewSet, basename="channel-performance")

urlpatterns = [
    path("attribution", views.AttributionView.as_view(), name="attribution"),
    path("journeys/<int:contact_id>", views.ContactJourneyView.as_view(), name="contact-journey"),
    *router.urls,
]
