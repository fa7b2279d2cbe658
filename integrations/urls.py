from django.urls import path

from integrations import views

app_name = "webhooks"

urlpatterns = [
    path("telegram/<int:channel_id>/", views.telegram_webhook, name="telegram"),
    path("<str:platform>/", views.app_webhook, name="app"),
]
