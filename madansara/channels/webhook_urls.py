from django.urls import path

from madansara.channels.webhooks import views

app_name = "webhooks"

urlpatterns = [
    path("sendgrid/events", views.sendgrid_events, name="sendgrid-events"),
    path("sendgrid/inbound/<str:secret>/", views.sendgrid_inbound, name="sendgrid-inbound"),
    path("twilio/messages", views.twilio_messages, name="twilio-messages"),
    path("twilio/status", views.twilio_status, name="twilio-status"),
    path("meta", views.meta, name="meta"),
    path("x", views.x, name="x"),
    path("linkedin", views.linkedin, name="linkedin"),
]
