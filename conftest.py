"""Test session fixtures: a real SeaweedFS S3 server on free ports, a private bucket, users and JWT clients, and each
task queue backend in turn (`queue`)."""

from __future__ import annotations

import os

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from localdev.s3server import LocalS3Server
from testing import REDIS_URL, TEST_BUCKET, Queue, jwt_client, redis_answers, redis_flush, storage_on


@pytest.fixture(scope="session")
def django_db_modify_db_settings(tmp_path_factory):
    """SQLite tests use a database file, as `make run` does: an in-memory database shares one cache between
    connections and never waits for a lock, so concurrent writers would not meet as they do in production."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("sqlite") / "test.sqlite3")


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One SeaweedFS for the whole test session, on free loopback ports."""
    server = LocalS3Server(
        data_dir=tmp_path_factory.mktemp("seaweedfs"), access_key="test-access-key", secret_key="test-secret-key"
    )
    server.start()
    server.ensure_private_bucket(TEST_BUCKET)
    yield server
    server.stop()


@pytest.fixture(scope="session", autouse=True)
def s3_settings(s3_server):
    with storage_on(s3_server, TEST_BUCKET):
        yield


@pytest.fixture
def s3_client(s3_server):
    return s3_server.client()


@pytest.fixture
def bucket_keys(s3_client):
    """A function listing every key in the test bucket, and an empty bucket after the test."""

    def list_keys(prefix: str = "") -> list[str]:
        keys = []
        for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=TEST_BUCKET, Prefix=prefix):
            keys.extend(item["Key"] for item in page.get("Contents", []))
        return sorted(keys)

    yield list_keys
    keys = list_keys()
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        s3_client.delete_objects(Bucket=TEST_BUCKET, Delete={"Objects": batch, "Quiet": True})


@pytest.fixture(scope="session", autouse=True)
def caches_of_their_own(tmp_path_factory):
    """The file caches in a folder of the tests' own: `make test` beside `make run` neither clears its throttle
    counters (empty_cache) nor meets its versions and answers."""
    from django.conf import settings

    folder = tmp_path_factory.mktemp("caches")
    caches = {
        alias: {**config, "LOCATION": str(folder / alias)} if config["BACKEND"].endswith("FileBasedCache") else config
        for alias, config in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        yield


@pytest.fixture(scope="session", autouse=True)
def lists_counted_every_time():
    """A test's writes never commit (pytest-django wraps each test in a transaction), so the versions that tell the
    lists' cached counts and the API's kept answers to take a write in (property/versions.py, renewed once a write
    commits) never move: counted and built every time here. test_list_counts and test_answers test both with
    committing tests; the servers the suite starts (test_run, bench) keep them on."""
    with override_settings(LIST_COUNT_CACHE_SECONDS=0, API_ANSWER_CACHE=False):
        yield


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing():
    """Real hashing costs ~0.2 s a user; the tests check authorisation, not the hasher."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture
def make_user(django_user_model):
    def create(username: str = "agent", *, is_staff: bool = False):
        return django_user_model.objects.create_user(
            username=username, password="correct-horse-battery", is_staff=is_staff
        )

    return create


@pytest.fixture
def owner(make_user):
    return make_user("owner")


@pytest.fixture
def other_user(make_user):
    return make_user("stranger")


@pytest.fixture
def owner_client(owner) -> APIClient:
    return jwt_client(owner)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return jwt_client(other_user)


@pytest.fixture(autouse=True)
def empty_cache():
    """Throttle counters and token users live in caches: each test starts with none."""
    from django.core.cache import caches

    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(scope="session")
def cloudfront_keys() -> dict[str, str]:
    """Two RSA key pairs, as a CloudFront key group holds during a key rotation: {key id: private key PEM}."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    def pem() -> str:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        ).decode()

    return {"K2JCJMDEHXQW5F": pem(), "K3NEWROTATED01": pem()}


@pytest.fixture(params=["database", "rq"])
def queue(request, settings):
    """Each backend a deployment may run, in turn (RQ needs Redis: CI fails without it, a laptop skips)."""
    if request.param == "rq":
        if not redis_answers():
            if os.environ.get("CI"):
                pytest.fail("CI runs the task tests on Redis: start it on 127.0.0.1:6379")
            pytest.skip("no Redis on 127.0.0.1:6379")
        settings.TASKS = {"default": {"BACKEND": "backend.task_backends.PriorityRQBackend", "QUEUES": ["default"]}}
        settings.RQ_QUEUES = {"default": {"URL": REDIS_URL}}
        redis_flush()
        yield Queue("rq")
        redis_flush()
        return
    yield Queue("database")
