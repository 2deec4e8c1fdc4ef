"""CORS: a front end on an allowed origin may call the API from a browser; any other origin may not."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

FRONT_END = "http://localhost:5173"


@pytest.fixture
def front_end_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [FRONT_END]


def preflight(path: str, origin: str, method: str = "GET"):
    return APIClient().options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=method,
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS="authorization, content-type",
    )


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(front_end_allowed):
    response = preflight("/api/houses-for-sale/", FRONT_END, method="POST")
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    allowed_headers = {header.strip() for header in response["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "content-type", "x-request-id"} <= allowed_headers
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in response  # tokens go in a header, never in cookies


def test_an_answer_to_an_allowed_origin_lets_it_read_the_request_id(front_end_allowed, owner_client):
    response = owner_client.get("/api/houses-for-sale/", HTTP_ORIGIN=FRONT_END)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == FRONT_END
    assert "X-Request-ID" in response["Access-Control-Expose-Headers"]


def test_another_origin_gets_no_cors_headers_so_the_browser_refuses(front_end_allowed, owner_client):
    assert "Access-Control-Allow-Origin" not in preflight("/api/houses-for-sale/", "https://evil.example")
    response = owner_client.get("/api/houses-for-sale/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response


def test_no_origin_is_allowed_until_an_operator_lists_it(owner_client):
    assert "Access-Control-Allow-Origin" not in owner_client.get("/api/houses-for-sale/", HTTP_ORIGIN=FRONT_END)


def test_the_admin_is_never_open_to_other_origins(front_end_allowed, admin_client):
    response = admin_client.get("/admin/", HTTP_ORIGIN=FRONT_END)
    assert "Access-Control-Allow-Origin" not in response
