"""JSON error bodies for every 4xx and 5xx, in the guide's shapes."""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler

logger = logging.getLogger(__name__)


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's handler, with the guide's plain `{"detail": "Not found."}` for every 404, including a row that
    a concurrent request deleted after this one found it (a model's DoesNotExist from a service)."""
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        # DRF would say "No PropertyImage matches the given query.": the guide promises "Not found."
        exc = exceptions.NotFound()
    if isinstance(exc, ErrorBodyException):
        return Response({"error": str(exc.detail)}, status=exc.status_code)
    return exception_handler(exc, context)


def bad_request(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"error": "Bad request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "You do not have permission to perform this action."}, status=403)


def not_found(request: HttpRequest, exception: Exception) -> JsonResponse:
    return JsonResponse({"detail": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "Internal server error"}, status=500)


class ErrorBodyException(exceptions.APIException):
    """An API error answered with the guide's `{"error": "..."}` body instead of DRF's `{"detail": ...}`."""

    status_code = 400
