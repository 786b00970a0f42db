from django.urls import path

from website import views

urlpatterns = [
    path("t/batch", views.batch, name="website-ingest"),
]
