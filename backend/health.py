"""`GET /health/`: whether the database and the images bucket answer. No authentication, no secrets."""

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .s3 import S3ImageService, S3StorageError

logger = logging.getLogger(__name__)


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError as error:
        logger.error("Health check: database failed error=%s", type(error).__name__)
        return False


def bucket_answers() -> bool:
    try:
        S3ImageService().probe_bucket()
    except S3StorageError:
        return False  # logged by S3ImageService
    return True


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    checks = {
        "database": "ok" if database_answers() else "unavailable",
        "storage": "ok" if bucket_answers() else "unavailable",
    }
    healthy = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if healthy else "unavailable", "checks": checks}
    return JsonResponse(body, status=200 if healthy else 503)
