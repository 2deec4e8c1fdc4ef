"""GET /metrics: Prometheus' text format, requests by view and status, S3 calls; only from the allowed addresses or
with the token. What the property app registers (the queue, the images) is tested in property/tests/test_metrics.py."""

import pytest

from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import jpeg_upload, metrics_scrape

pytestmark = pytest.mark.django_db


def requests_counted(samples: dict, view: str, status: str) -> float:
    key = ("alca_http_request_duration_seconds_count", (("method", "GET"), ("status", status), ("view", view)))
    return samples.get(key, 0)


def test_metrics_count_requests_by_view_and_status(client, owner_client):
    before = metrics_scrape(client)
    for _ in range(3):
        assert owner_client.get("/api/houses-for-sale/").status_code == 200
    assert client.get("/api/houses-for-sale/").status_code == 401
    after = metrics_scrape(client)
    for view, status, made in [("house-for-sale-list", "200", 3), ("house-for-sale-list", "401", 1)]:
        assert requests_counted(after, view, status) - requests_counted(before, view, status) == made


def test_metrics_count_s3_calls_by_operation_and_outcome(client, owner, bucket_keys):
    before = metrics_scrape(client)
    property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(), jpeg_upload()])
    after = metrics_scrape(client)
    put = ("alca_s3_call_duration_seconds_count", (("operation", "PutObject"), ("outcome", "ok")))
    assert after[put] - before.get(put, 0) == 2


@pytest.mark.parametrize(
    ("address", "authorization", "status"),
    [
        ("127.0.0.1", "", 200),
        ("10.1.2.3", "", 403),
        ("10.1.2.3", "Bearer not-the-token", 403),
        ("10.1.2.3", "Bearer the-metrics-token", 200),
    ],
)
def test_metrics_are_read_only_from_the_allowed_addresses_or_with_the_token(
    client, settings, address, authorization, status
):
    settings.METRICS_TOKEN = "the-metrics-token"
    response = client.get("/metrics", REMOTE_ADDR=address, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == status
    if status == 403:
        assert "METRICS_ALLOWED_ADDRESSES" in response.json()["detail"]


def test_without_a_token_set_no_bearer_token_opens_the_metrics(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_behind_a_proxy_the_forwarded_client_address_decides(client, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    # The proxy on this host connects from loopback; the client it forwards is elsewhere.
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
    assert response.status_code == 403


def test_an_s3_call_that_gets_no_answer_is_counted_unreachable(client, settings, tmp_path):
    from django.test import override_settings

    from localdev.s3server import LocalS3Server

    server = LocalS3Server(data_dir=tmp_path / "s3", access_key="k", secret_key="s")
    with override_settings(
        STORAGES={**settings.STORAGES},
        AWS_S3_ENDPOINT_URL=f"http://127.0.0.1:{server.ports.s3}",  # nothing listens there
        AWS_ACCESS_KEY_ID="k",
        AWS_SECRET_ACCESS_KEY="s",
    ):
        before = metrics_scrape(client)
        assert client.get("/health/").status_code == 503
        after = metrics_scrape(client)
    unreachable = ("alca_s3_call_duration_seconds_count", (("operation", "HeadBucket"), ("outcome", "unreachable")))
    assert after[unreachable] - before.get(unreachable, 0) == 1


def test_metrics_take_only_get(client):
    response = client.post("/metrics", REMOTE_ADDR="127.0.0.1")
    assert (response.status_code, response.json(), response["Allow"]) == (
        405,
        {"detail": 'Method "POST" not allowed.'},
        "GET",
    )
