from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from madansara import metrics, views

admin.site.site_header = "Madan Sara"
admin.site.site_title = "Madan Sara"
admin.site.index_title = "Console"

api_v1 = [
    path("", include("madansara.api.urls")),
    path("", include("madansara.channels.api.urls")),
    path("", include("outreach.api.urls")),
    path("", include("inbox.api.urls")),
    path("", include("abtesting.api.urls")),
    path("", include("website.api.urls")),
    path("", include("conversion.api.urls")),
    path("", include("social.api.urls")),
]

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("webhooks/", include("madansara.channels.webhook_urls")),
    path("ab/", include("abtesting.urls")),
    path("o/", include("outreach.urls")),
    path("", include("website.urls")),
]
