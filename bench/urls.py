"""The product's URLs plus `/bench/bare/`: a bare Django view inserting one row, the
baseline the webhook endpoint is measured against."""

from django.http import HttpRequest, JsonResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from helpdesk.urls import urlpatterns as product_urlpatterns
from integrations.models import Platform, WebhookEvent


@csrf_exempt
def bare_insert(request: HttpRequest) -> JsonResponse:
    # Same table and row size as a webhook delivery, with nothing else: no signature check,
    # no JSON parsing, no enqueue. Marked ignored so no worker ever picks it up.
    event = WebhookEvent.objects.create(
        platform=Platform.FACEBOOK, body=request.body.decode(), received_at=timezone.now(),
        status=WebhookEvent.Status.IGNORED,
    )
    return JsonResponse({"status": "accepted", "event_id": event.pk})


urlpatterns = [*product_urlpatterns, path("bench/bare/", bare_insert)]
