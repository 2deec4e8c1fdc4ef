"""Log lines: a request id on each, the object key on S3 failures, never a presigned URL, a token or a share link's
token."""

import io
import logging

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils.module_loading import import_string
from rest_framework.test import APIClient

from backend.request_id import RequestIdFilter
from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import jpeg_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def log_lines(caplog):
    """Every record as the project's formatter writes it."""
    formatter = logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"])
    request_id_filter = RequestIdFilter()
    caplog.handler.addFilter(request_id_filter)
    caplog.set_level(logging.DEBUG)
    yield lambda: [formatter.format(record) for record in caplog.records]
    caplog.handler.removeFilter(request_id_filter)


def test_every_response_carries_a_request_id_and_keeps_a_sane_given_one(owner_client):
    generated = owner_client.get("/api/houses-for-sale/")["X-Request-ID"]
    assert len(generated) == 32
    assert (
        owner_client.get("/api/houses-for-sale/", HTTP_X_REQUEST_ID="edge-1234abcd")["X-Request-ID"] == "edge-1234abcd"
    )
    hostile = owner_client.get("/api/houses-for-sale/", HTTP_X_REQUEST_ID="x\nFAKE LOG LINE")["X-Request-ID"]
    assert "\n" not in hostile and len(hostile) == 32


def test_s3_failure_is_one_line_with_the_key_and_the_request_id(owner_client, owner, log_lines):
    house = HouseForSaleFactory(owner=owner)
    with override_settings(STORAGES={**settings.STORAGES}, AWS_S3_ENDPOINT_URL="http://127.0.0.1:9"):
        response = owner_client.post(
            f"/api/houses-for-sale/{house.pk}/upload_images/",
            {"images": [jpeg_upload()]},
            format="multipart",
            HTTP_X_REQUEST_ID="req-upload-0001",
        )
    assert response.status_code == 503
    failures = [line for line in log_lines() if "S3 upload failed" in line]
    # One line for the photo's original: its variants are made later, by a worker.
    assert len(failures) == 1
    for line in failures:
        assert f"key=properties/houseforsale/{house.pk}/" in line and "request_id=req-upload-0001" in line
        assert "\n" not in line  # no traceback


def test_no_presigned_url_or_token_reaches_the_logs(owner_client, owner, bucket_keys, log_lines):
    house = HouseForSaleFactory(owner=owner)
    (image,) = property_images_store(house=house, files=[jpeg_upload()])
    signed = owner_client.get(f"/api/property-images/{image.pk}/secure_url/")
    redirect = owner_client.get(f"/api/property-images/{image.pk}/redirect_to_image/")
    listing = owner_client.get("/api/property-images/?content_type=house_for_sale")
    missing = owner_client.get("/api/property-images/999/")  # a logged 404
    # Each answer carried what must not be logged (or, the 404, was logged).
    assert "X-Amz-Signature=" in signed.json()["secure_url"] and "X-Amz-Signature=" in redirect["Location"]
    assert "X-Amz-Signature=" in listing.json()["results"][0]["secure_url"] and missing.status_code == 404
    token = owner_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    logged = "\n".join(log_lines())
    assert "Not Found: /api/property-images/999/" in logged  # the requests above did log
    assert "X-Amz-Signature" not in logged and "X-Amz-Credential" not in logged
    assert token not in logged


def test_each_request_is_one_access_log_line_with_its_id_and_never_its_query_string(owner_client, log_lines):
    owner_client.get("/api/houses-for-sale/?city=Secret-Query", HTTP_X_REQUEST_ID="req-access-0001")
    (line,) = [line for line in log_lines() if " backend.access " in line]
    assert 'request_id=req-access-0001 "GET /api/houses-for-sale/" 200 ' in line and line.endswith("ms")
    assert "Secret" not in line


def test_without_access_log_no_request_is_logged(owner_client, log_lines, settings):
    settings.ACCESS_LOG = False  # read when the middleware is made, as each test client request does
    owner_client.get("/api/houses-for-sale/")
    assert not [line for line in log_lines() if " backend.access " in line]


def test_no_share_link_token_reaches_the_logs(owner_client, owner, caplog):
    house = HouseForSaleFactory(owner=owner)
    made = owner_client.post(f"/api/houses-for-sale/{house.pk}/share_links/", {"expires_in": 60}, format="json")
    token = made.json()["token"]
    # As settings.LOGGING's handler writes them: its filters, then its format.
    handler = logging.StreamHandler(stream := io.StringIO())
    handler.setFormatter(logging.Formatter(settings.LOGGING["formatters"]["plain"]["format"]))
    for name in settings.LOGGING["handlers"]["console"]["filters"]:
        handler.addFilter(import_string(settings.LOGGING["filters"][name]["()"])())
    logging.getLogger().addHandler(handler)
    try:
        with caplog.at_level(logging.INFO):
            opened = APIClient().get(f"/api/shared/{token}/")
            missing = APIClient().get(f"/api/shared/{token[::-1]}/")  # logged as Not Found
            page = APIClient().get(f"/shared/{token}/")
    finally:
        logging.getLogger().removeHandler(handler)
    assert (opened.status_code, missing.status_code, page.status_code) == (200, 404, 200)
    logged = stream.getvalue()
    assert '"GET /api/shared/[token]/" 200' in logged and "Not Found: /api/shared/[token]/" in logged
    assert token not in logged and token[::-1] not in logged
