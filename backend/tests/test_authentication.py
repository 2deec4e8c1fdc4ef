"""Bearer tokens: the token's user is read once per process and cache lifetime, not on every request, and a user
deactivated or with a new password still loses access within that time."""

import time

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from testing import jwt_client, manage_command

pytestmark = pytest.mark.django_db

# An endpoint whose own queries never read the user table.
IMAGES = "/api/property-images/"
INACTIVE = {"detail": "User is inactive", "code": "user_inactive"}
PASSWORD_CHANGED = {"detail": "The user's password has been changed.", "code": "password_changed"}


def user_reads(client: APIClient) -> int:
    """How many times a request read the user table, after checking it answered 200."""
    with CaptureQueriesContext(connection) as captured:
        assert client.get(IMAGES).status_code == 200
    return sum('FROM "auth_user"' in query["sql"] for query in captured)


def a_minute_for_one_second():
    """The users' cache with entries kept 1 s instead of AUTH_USER_CACHE_SECONDS."""
    return override_settings(CACHES={**settings.CACHES, "users": {**settings.CACHES["users"], "TIMEOUT": 1}})


def test_a_token_user_is_read_from_the_database_once_not_on_every_request(owner_client, other_client):
    assert user_reads(owner_client) == 1
    assert [user_reads(owner_client) for _ in range(5)] == [0] * 5
    assert user_reads(other_client) == 1  # each user is its own entry


def test_a_user_deactivated_in_this_process_loses_access_at_once(owner, owner_client):
    assert owner_client.get(IMAGES).status_code == 200
    owner.is_active = False
    owner.save()
    response = owner_client.get(IMAGES)
    assert (response.status_code, response.json()) == (401, INACTIVE)


def test_a_deleted_user_loses_access_at_once_in_this_process(owner, owner_client):
    assert owner_client.get(IMAGES).status_code == 200
    owner.delete()
    response = owner_client.get(IMAGES)
    assert (response.status_code, response.json()) == (401, {"detail": "User not found", "code": "user_not_found"})


def test_a_new_password_refuses_the_tokens_issued_before_it(owner, owner_client):
    assert owner_client.get(IMAGES).status_code == 200
    owner.set_password("a-new-horse-battery")
    owner.save()
    response = owner_client.get(IMAGES)
    assert (response.status_code, response.json()) == (401, PASSWORD_CHANGED)
    assert jwt_client(owner).get(IMAGES).status_code == 200  # a token issued under the new password


@pytest.mark.parametrize(
    ("change", "refusal"),
    [({"is_active": False}, INACTIVE), ({"password": "another hash"}, PASSWORD_CHANGED)],
)
def test_a_change_saved_by_another_process_reaches_this_one_within_the_cache_time(owner, change, refusal):
    with a_minute_for_one_second():
        client = jwt_client(owner)
        assert client.get(IMAGES).status_code == 200
        # As another process saves it: no signal reaches this one, whose entry lives out its time.
        get_user_model().objects.filter(pk=owner.pk).update(**change)
        time.sleep(1.2)
        response = client.get(IMAGES)
    assert (response.status_code, response.json()) == (401, refusal)


def test_a_token_newer_than_the_cached_row_is_checked_against_the_database(owner, owner_client):
    """Another process changed the password and issued a token under it: this process's older row would refuse that
    token, so it reads the row again instead."""
    assert owner_client.get(IMAGES).status_code == 200
    owner.set_password("a-new-horse-battery")
    get_user_model().objects.filter(pk=owner.pk).update(password=owner.password)  # no signal here
    new_client = APIClient()
    new_client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(owner).access_token}")
    assert new_client.get(IMAGES).status_code == 200
    assert owner_client.get(IMAGES).status_code == 401  # and the row read again refuses the old token


def test_a_user_cache_time_longer_than_an_access_token_is_refused_at_start():
    result = manage_command("check", AUTH_USER_CACHE_SECONDS="901", JWT_ACCESS_TOKEN_MINUTES="15")
    assert result.returncode != 0
    assert "AUTH_USER_CACHE_SECONDS must be 0 to the access token's lifetime in seconds" in result.stderr
    assert manage_command("check", AUTH_USER_CACHE_SECONDS="900", JWT_ACCESS_TOKEN_MINUTES="15").returncode == 0
