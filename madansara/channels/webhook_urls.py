from functools import wraps

from django.urls import path

from madansara.channels.webhooks import views
from madansara.metrics import WEBHOOKS_RECEIVED, WEBHOOKS_REFUSED

app_name = "webhooks"
REFUSALS = {400: "malformed", 403: "signature", 413: "too_large"}


def counted(view, *, provider: str, kind: str):
    """Count the endpoint's verified posts and its refusals (by status) for /metrics."""

    @wraps(view)  # keeps csrf_exempt and the view's name
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code in REFUSALS:
            WEBHOOKS_REFUSED.labels(provider, REFUSALS[response.status_code]).inc()
        elif request.method == "POST" and response.status_code < 300:
            WEBHOOKS_RECEIVED.labels(provider, kind).inc()
        return response

    return wrapper


urlpatterns = [
    path(
        "sendgrid/events",
        counted(views.sendgrid_events, provider="sendgrid", kind="events"),
        name="sendgrid-events",
    ),
    path(
        "sendgrid/inbound/<str:secret>/",
        counted(views.sendgrid_inbound, provider="sendgrid", kind="inbound"),
        name="sendgrid-inbound",
    ),
    path(
        "twilio/messages",
        counted(views.twilio_messages, provider="twilio", kind="message"),
        name="twilio-messages",
    ),
    path("twilio/status", counted(views.twilio_status, provider="twilio", kind="status"), name="twilio-status"),
    path("meta", counted(views.meta, provider="meta", kind="event"), name="meta"),
    path("x", counted(views.x, provider="x", kind="event"), name="x"),
    path("linkedin", counted(views.linkedin, provider="linkedin", kind="event"), name="linkedin"),
]
