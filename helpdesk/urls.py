from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from helpdesk.health import healthz
from helpdesk.metrics import metrics_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("webhooks/", include("integrations.urls")),
    path("api/v1/", include("helpdesk.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("console/assist/", include("assist.urls")),
    path("metrics", metrics_view, name="metrics"),
    path("", include("inbox.urls")),  # the agent console: / and /console/...
]
if settings.SANDBOX_PLATFORMS_ENABLED:
    urlpatterns.insert(-1, path("sandbox/", include("sandbox.urls")))
