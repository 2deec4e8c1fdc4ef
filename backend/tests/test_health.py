"""`GET /health/` against the real database and a real S3 server that is then stopped."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from localdev.s3server import LocalS3Server
from testing import storage_on

pytestmark = pytest.mark.django_db


def test_health_is_ok_without_authentication():
    response = APIClient().get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "storage": "ok"}}
    assert response["Cache-Control"].startswith("max-age=0")


def test_health_is_503_naming_the_storage_when_the_s3_server_stops(tmp_path):
    server = LocalS3Server(data_dir=tmp_path / "s3", access_key="health-key", secret_key="health-secret")
    server.start()
    try:
        server.ensure_private_bucket("health-bucket")
        with storage_on(server, "health-bucket"):
            assert APIClient().get("/health/").status_code == 200
            server.stop(grace=0.5)
            response = APIClient().get("/health/")
    finally:
        server.stop(grace=0.5)
    assert response.status_code == 503
    body = response.json()
    assert body == {"status": "unavailable", "checks": {"database": "ok", "storage": "unavailable"}}
    assert "health-secret" not in response.content.decode()


def test_health_is_503_when_the_bucket_is_missing(settings):
    with override_settings(STORAGES={**settings.STORAGES}, AWS_STORAGE_BUCKET_NAME="no-such-bucket"):
        response = APIClient().get("/health/")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"] == "unavailable"
