from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.health import healthz

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("integrations.urls")),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("sandbox/", include("integrations.sandbox_urls")),  # empty unless SANDBOX_PLATFORMS_ENABLED
    path("", include("inbox.urls")),  # the agent console: / and /console/...
]
