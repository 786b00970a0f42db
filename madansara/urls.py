from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from inbox import live_views
from madansara import metrics, views

admin.site.site_header = "Madan Sara"
admin.site.site_title = "Madan Sara"
admin.site.index_title = "Console"
admin.site.enable_nav_sidebar = False  # the task navigation on top replaces the model list

api_v1 = [
    path("", include("madansara.api.urls")),
    path("", include("madansara.webhooks_out.urls")),
    path("", include("madansara.contacts.api.urls")),
    path("", include("madansara.channels.api.urls")),
    path("", include("outreach.api.urls")),
    path("", include("inbox.api.urls")),
    path("", include("abtesting.api.urls")),
    path("", include("website.api.urls")),
    path("", include("conversion.api.urls")),
    path("", include("social.api.urls")),
    path("", include("bestpractices.api.urls")),
]

handler400 = "madansara.views.bad_request"
handler403 = "madansara.views.permission_denied"
handler404 = "madansara.views.page_not_found"
handler500 = "madansara.views.server_error"

urlpatterns = [
    path("", views.landing, name="landing"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", views.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("admin/", views.console_home, name="console_home"),  # each role's home replaces the index
    path("admin/internals/", views.console_internals, name="console_internals"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # the split view serves its start-up script as a file: no inline script under the CSP
    # The split view serves Swagger UI's start-up code as a script file: nothing inline for the CSP.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
    path("webhooks/", include("madansara.channels.webhook_urls")),
    path("ab/", include("abtesting.urls")),
    path("o/", include("outreach.urls")),
    path("live/inbox/poll", live_views.poll, name="live-inbox-poll"),
    path("live/inbox/presence", live_views.presence, name="live-inbox-presence"),
    path("", include("website.urls")),
]
