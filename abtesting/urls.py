from django.urls import path

from abtesting.views import PublicAssignmentsView

app_name = "abtesting"
urlpatterns = [path("assignments", PublicAssignmentsView.as_view(), name="public-assignments")]
