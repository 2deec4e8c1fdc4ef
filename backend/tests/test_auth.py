"""JWT authentication: tokens, refresh, and the guide's 401 body."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

NOT_PROVIDED = {"detail": "Authentication credentials were not provided."}


def test_token_pair_for_valid_credentials_works_as_bearer(owner):
    client = APIClient()
    tokens = client.post("/api/token/", {"username": "owner", "password": "correct-horse-battery"}).json()
    assert set(tokens) == {"access", "refresh"}
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/houses-for-sale/").status_code == 200


@pytest.mark.parametrize("path", ["/api/token/", "/api/token/refresh/", "/api/token/blacklist/"])
def test_token_endpoints_take_json_only(owner, path):
    body = "username=owner&password=correct-horse-battery&refresh=x"
    response = APIClient().post(path, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == {"detail": 'Unsupported media type "application/x-www-form-urlencoded" in request.'}


def test_refresh_gives_a_new_access_token(owner):
    client = APIClient()
    refresh = client.post("/api/token/", {"username": "owner", "password": "correct-horse-battery"}).json()["refresh"]
    response = client.post("/api/token/refresh/", {"refresh": refresh})
    assert response.status_code == 200
    assert "access" in response.json()


def test_wrong_password_is_401_with_a_reason(owner):
    response = APIClient().post("/api/token/", {"username": "owner", "password": "wrong"})
    assert response.status_code == 401
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/houses-for-sale/",
        "/api/houses-for-rent/",
        "/api/property-images/",
        "/api/property-images/1/",
        "/api/property-images/1/secure_url/",
        "/api/property-images/1/redirect_to_image/",
    ],
)
def test_every_endpoint_needs_authentication(path):
    response = APIClient().get(path)
    assert response.status_code == 401
    assert response.json() == NOT_PROVIDED


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/houses-for-sale/1/upload_images/"),
        ("post", "/api/property-images/bulk_upload/"),
        ("patch", "/api/property-images/1/set_as_main/"),
        ("delete", "/api/property-images/1/"),
    ],
)
def test_writes_need_authentication(method, path):
    response = getattr(APIClient(), method)(path)
    assert response.status_code == 401
    assert response.json() == NOT_PROVIDED


@pytest.mark.parametrize("header", ["Bearer garbage", "Token abc", "Bearer", "Basic b3duZXI6eA=="])
def test_bad_tokens_and_schemes_are_refused(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/houses-for-sale/")
    assert response.status_code == 401
    assert response.json()["detail"]


def login(client: APIClient) -> dict:
    return client.post("/api/token/", {"username": "owner", "password": "correct-horse-battery"}).json()


@pytest.mark.parametrize("change", ["deactivated", "new password", "deleted"])
def test_refresh_is_refused_once_the_user_is_deactivated_deleted_or_has_a_new_password(owner, change):
    client = APIClient()
    refresh = login(client)["refresh"]
    if change == "deactivated":
        owner.is_active = False
        owner.save()
    elif change == "new password":
        owner.set_password("a-new-horse-battery")
        owner.save()
    else:
        owner.delete()
    response = client.post("/api/token/refresh/", {"refresh": refresh})
    assert response.status_code == 401
    assert response.json() == {"detail": "No active account found for the given token.", "code": "no_active_account"}
