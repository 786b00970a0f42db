from django.urls import path

from website import chat_views
from website.ingest import endpoint

urlpatterns = [
    path("t/batch", endpoint.batch, name="website-ingest"),
    path("chat/config", chat_views.config, name="chat-config"),
    path("chat/start", chat_views.start, name="chat-start"),
    path("chat/resume", chat_views.resume, name="chat-resume"),
    path("chat/messages", chat_views.send, name="chat-messages"),
    path("chat/poll", chat_views.poll, name="chat-poll"),
    path("chat/email", chat_views.leave_email, name="chat-email"),
    path("chat/close", chat_views.close, name="chat-close"),
    path("chat/csat", chat_views.csat, name="chat-csat"),
]
