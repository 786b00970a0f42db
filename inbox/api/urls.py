from rest_framework.routers import DefaultRouter

from inbox.api.views import ConversationViewSet, DraftViewSet

router = DefaultRouter(trailing_slash=False)
router.register("inbox/conversations", ConversationViewSet, basename="inbox-conversation")
router.register("inbox/drafts", DraftViewSet, basename="inbox-draft")

urlpatterns = router.urls
