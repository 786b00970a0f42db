from django.urls import path

from website.ingest import endpoint

urlpatterns = [
    path("t/batch", endpoint.batch, name="website-ingest"),
]
