"""REST API v1: each app contributes its routes."""

from django.urls import include, path

urlpatterns = [
    path("", include("inbox.api_urls")),
    path("", include("routing.api_urls")),
]
