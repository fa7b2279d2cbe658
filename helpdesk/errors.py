"""Domain errors and the one place that turns them into HTTP responses."""

from typing import Any

from django.http import JsonResponse
from rest_framework.response import Response
from rest_framework.views import exception_handler


class DomainError(Exception):
    """An error a caller can act on; `status` and `code` say how it reaches an HTTP client."""

    status: int = 400
    code: str = "invalid"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, **self.extra}


class NotFound(DomainError):
    status, code = 404, "not_found"


class Conflict(DomainError):
    status, code = 409, "conflict"


def domain_error_response(error: DomainError) -> JsonResponse:
    return JsonResponse(error.as_dict(), status=error.status)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER: domain errors become `{"code", "message"}` with their status."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status)
    return exception_handler(exc, context)


class DomainErrorMiddleware:
    """Answer a DomainError raised by a plain Django view with its JSON form and status."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return domain_error_response(exception)
        return None
