from rest_framework.routers import DefaultRouter

from social.api import views

router = DefaultRouter(trailing_slash=False)
router.register("social/accounts", views.SocialAccountViewSet, basename="social-account")
router.register("social/posts", views.SocialPostViewSet, basename="social-post")
router.register("social/comments", views.SocialCommentViewSet, basename="social-comment")
router.register("social/funnels", views.SocialEngagementFunnelViewSet, basename="social-funnel")
router.register("social/funnel-runs", views.FunnelRunViewSet, basename="social-funnel-run")
router.register("social/advocates", views.SocialAdvocateViewSet, basename="social-advocate")
router.register("social/insights", views.PlatformInsightViewSet, basename="social-insight")
router.register("social/engagements", views.SocialEngagementViewSet, basename="social-engagement")

urlpatterns = router.urls
