"""Hostile tokens, token rotation and throttling, security headers, and production settings."""

import base64
import json
import secrets
from datetime import timedelta

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from testing import manage_command

pytestmark = pytest.mark.django_db


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_alg_none_token_is_refused(owner):
    claims = {"token_type": "access", "user_id": str(owner.pk), "exp": 4102444800, "jti": "x"}
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
    response = bearer(unsigned).get("/api/houses-for-sale/")
    assert response.status_code == 401 and response.json()["detail"]


def test_expired_token_is_refused(owner):
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=-timedelta(seconds=1))
    assert bearer(str(token)).get("/api/houses-for-sale/").status_code == 401


def test_token_with_a_wrong_signature_is_refused(owner):
    header, payload, signature = str(AccessToken.for_user(owner)).split(".")
    forged = f"{header}.{payload}.{signature[::-1]}"
    assert bearer(forged).get("/api/houses-for-sale/").status_code == 401


def test_token_signed_with_another_key_is_refused(owner):
    import jwt

    claims = {"token_type": "access", "user_id": str(owner.pk), "exp": 4102444800, "jti": "y"}
    other = jwt.encode(claims, "another-secret-key-that-is-long-enough-for-hs256", algorithm="HS256")
    assert bearer(other).get("/api/houses-for-sale/").status_code == 401


def obtain(username="owner", password="correct-horse-battery", **extra):
    return APIClient().post("/api/token/", {"username": username, "password": password}, **extra)


def test_refresh_rotates_and_the_old_refresh_token_stops_working(owner):
    first = obtain().json()["refresh"]
    rotated = APIClient().post("/api/token/refresh/", {"refresh": first})
    assert rotated.status_code == 200 and rotated.json()["refresh"] != first
    reused = APIClient().post("/api/token/refresh/", {"refresh": first})
    assert reused.status_code == 401


def test_blacklisted_refresh_token_cannot_be_used(owner):
    refresh = obtain().json()["refresh"]
    assert APIClient().post("/api/token/blacklist/", {"refresh": refresh}).status_code == 200
    assert APIClient().post("/api/token/refresh/", {"refresh": refresh}).status_code == 401


def test_token_endpoint_is_throttled_and_forwarded_for_cannot_dodge_it(owner):
    statuses = [obtain(password="wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{attempt}").status_code for attempt in range(21)]
    assert statuses[:20] == [401] * 20
    assert statuses[20] == 429
    throttled = obtain()
    assert throttled.status_code == 429 and "throttled" in throttled.json()["detail"].lower()


def test_api_responses_carry_the_security_headers(owner_client):
    for path in ("/api/houses-for-sale/", "/api/property-images/1/redirect_to_image/", "/api/nope/"):
        response = owner_client.get(path)
        assert response["Referrer-Policy"] == "no-referrer", path
        assert response["X-Content-Type-Options"] == "nosniff", path


def test_a_request_line_over_8190_bytes_is_414_with_a_json_body(owner_client):
    def get_with_request_line_of(length: int):
        path = "/api/houses-for-sale/?city="
        return owner_client.get(path + "a" * (length - len(f"GET {path} HTTP/1.1")))

    longest, too_long = get_with_request_line_of(8190), get_with_request_line_of(8191)
    assert longest.status_code == 200
    assert too_long.status_code == 414
    assert too_long.json() == {"error": "The request line (method, path and query string) is over 8190 bytes"}


def test_the_admin_keeps_same_origin_referrers_so_its_csrf_check_works(client):
    assert client.get("/admin/login/")["Referrer-Policy"] == "same-origin"


PRODUCTION = {
    "DJANGO_ENV": "production",
    "CACHE_URL": "redis://127.0.0.1:6379/0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
    "DJANGO_ALLOWED_HOSTS": "api.example.com",
}


def test_check_deploy_passes_with_production_settings(tmp_path):
    result = manage_command("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION, DJANGO_DEBUG="False")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_DEBUG": "True"}, "DJANGO_DEBUG=True is refused with DJANGO_ENV=production"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "x" * 60}, "needs a random DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "needs a random DJANGO_SECRET_KEY"),
        ({"CACHE_URL": ""}, "DJANGO_ENV=production needs CACHE_URL (e.g. redis://cache.internal:6379/0)"),
    ],
)
def test_production_refuses_to_start_with_debug_a_weak_key_or_no_shared_cache(overrides, message):
    result = manage_command("check", **{**PRODUCTION, **overrides})
    assert result.returncode != 0
    assert message in result.stderr


def redis_answers() -> bool:
    try:
        import redis

        return redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=1).ping()
    except Exception:  # noqa: BLE001 - any failure means no Redis to test with
        return False


@pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379")
def test_throttle_counts_are_shared_through_redis(owner, settings):
    """With CACHE_URL=redis://... every process reads and adds to the same counter."""
    import redis
    from django.core.cache import caches

    database = 15
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:6379/{database}",
        }
    }
    shared = redis.Redis(host="127.0.0.1", port=6379, db=database)
    shared.flushdb()
    try:
        for _ in range(20):
            assert obtain(password="wrong").status_code == 401
        # Another process would see the same count: it is in Redis, not in this process.
        assert any(b"throttle_token" in key for key in shared.keys("*"))
        assert obtain().status_code == 429
    finally:
        shared.flushdb()
        caches["default"].close()
