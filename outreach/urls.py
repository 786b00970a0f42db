from django.urls import path

from outreach import views

app_name = "outreach"

urlpatterns = [
    path("c/<str:token>", views.click, name="click"),
    path("u/<str:token>", views.unsubscribe, name="unsubscribe"),
]
