"""The private bucket as S3 itself answers: bare URLs refused, presigned ones served, objects written private."""

import calendar
import io
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests
from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from backend.s3 import S3ImageService, S3StorageError
from backend.storage_backends import SMALL_BODY_SIZE, ObjectContent, PrivateMediaStorage
from property.models import PropertyImage
from testing import (
    TEST_BUCKET,
    acls_refused,
    cloudfront_settings,
    cloudfront_url_policy,
    cloudfront_verified,
    s3_event_handler,
)

KEY = "properties/houseforsale/1/20250112_143022_a1b2c3d4.jpg"


@pytest.fixture
def stored_object(bucket_keys):
    payload = b"\xff\xd8private listing photo"
    content = ContentFile(payload)
    content.content_type = "image/jpeg"
    S3ImageService().upload(key=KEY, content=content)
    return payload


def test_property_images_use_the_private_media_storage():
    assert isinstance(PropertyImage._meta.get_field("image").storage, PrivateMediaStorage)


def test_presigning_without_credentials_gives_none(monkeypatch):
    # No credentials anywhere: botocore must not look for an instance role over the network.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    storage = PrivateMediaStorage(access_key=None, secret_key=None)
    assert storage.signed_urls([KEY]) == [None]


def test_bare_object_url_is_refused(stored_object, s3_server):
    response = requests.get(f"{s3_server.endpoint_url}/{TEST_BUCKET}/{KEY}", timeout=10)
    assert response.status_code == 403
    assert stored_object not in response.content


def test_presigned_url_serves_the_bytes(stored_object):
    response = requests.get(storages["default"].signed_urls([KEY])[0], timeout=10)
    assert response.status_code == 200
    assert response.content == stored_object
    assert response.headers["Content-Type"] == "image/jpeg"
    assert response.headers["Cache-Control"] == "max-age=86400"


def test_expired_presigned_url_is_refused(stored_object):
    storage = PrivateMediaStorage(presigned_url_stable_window=0)  # no stability window: the URL lives exactly 1 s
    presigned_url = storage.signed_urls([KEY], expire=1)[0]
    time.sleep(2.5)
    response = requests.get(presigned_url, timeout=10)
    assert response.status_code == 403


def test_tampered_presigned_url_is_refused(stored_object):
    parts = urlsplit(storages["default"].signed_urls([KEY])[0])
    query = dict(parse_qsl(parts.query))
    signature = query["X-Amz-Signature"]
    query["X-Amz-Signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    response = requests.get(urlunsplit(parts._replace(query=urlencode(query))), timeout=10)
    assert response.status_code == 403


def test_presigned_url_for_another_key_cannot_be_reused(stored_object):
    presigned_url = storages["default"].signed_urls([KEY])[0]
    response = requests.get(presigned_url.replace("a1b2c3d4", "e5f6g7h8"), timeout=10)
    assert response.status_code == 403


def test_every_put_asks_for_a_private_acl(bucket_keys):
    """SeaweedFS ignores ACLs, so assert on what our code sends."""
    storage = PrivateMediaStorage()
    sent_acls = []

    def record_acl(params, **kwargs):
        sent_acls.append(params.get("ACL"))

    storage.connection.meta.client.meta.events.register("before-parameter-build.s3.PutObject", record_acl)
    storage.save("properties/houseforrent/9/20250112_143022_00000000.png", ContentFile(b"png bytes"))
    assert sent_acls == ["private"]


@pytest.mark.parametrize(("size", "waits_for_continue"), [(40_000, False), (SMALL_BODY_SIZE + 1, True)])
def test_small_bodies_go_without_waiting_for_100_continue(size, waits_for_continue, bucket_keys, s3_client):
    """A thumbnail should not wait a round trip for S3's `100 Continue`; a large photo still asks first."""
    storage = PrivateMediaStorage()
    sent_headers = []

    def record_headers(request, **kwargs):
        sent_headers.append(dict(request.headers))

    storage.connection.meta.client.meta.events.register("before-send.s3.PutObject", record_headers)
    storage.save(KEY, ContentFile(b"x" * size))
    assert [headers.get("Expect") for headers in sent_headers] == [b"100-continue" if waits_for_continue else None]
    assert s3_client.head_object(Bucket=TEST_BUCKET, Key=KEY)["ContentLength"] == size


def test_a_bucket_with_acls_disabled_gets_its_objects_without_an_acl(bucket_keys, s3_client, caplog):
    storage = PrivateMediaStorage()
    other_key = KEY.replace(".jpg", "_320w.webp")
    with acls_refused(storage.connection.meta.client) as sent_acls:
        S3ImageService(storage).upload(key=KEY, content=ContentFile(b"first photo"))
        S3ImageService(storage).upload(key=other_key, content=ContentFile(b"its thumbnail"))
    # Refused once with the private ACL, written without it, and never sent again.
    assert sent_acls == ["private", None, None]
    assert bucket_keys() == sorted([KEY, other_key])
    assert s3_client.get_object(Bucket=TEST_BUCKET, Key=KEY)["Body"].read() == b"first photo"
    warnings = [record.getMessage() for record in caplog.records if "ACLs disabled" in record.getMessage()]
    assert len(warnings) == 1 and TEST_BUCKET in warnings[0]


def test_uploads_side_by_side_all_recover_from_the_first_acl_refusals(bucket_keys, caplog):
    """The first bulk upload after a start: several uploads send the ACL before any refusal comes back."""
    storage = PrivateMediaStorage()
    keys = [KEY, KEY.replace(".jpg", "_320w.webp")]
    both_sent = threading.Barrier(len(keys), timeout=10)

    def wait_for_the_other(request, **kwargs):
        if request.headers.get("x-amz-acl") is None:
            return
        both_sent.wait()  # neither is refused before both have gone out with the ACL
        if request.url.split("?", 1)[0].endswith(keys[1]):
            # ... and the second refusal only comes back once the first one has switched the storage over.
            deadline = time.monotonic() + 10
            while not storage.bucket_refuses_acls and time.monotonic() < deadline:
                time.sleep(0.01)

    client = storage.bucket.meta.client  # django-storages writes through its one shared Bucket
    with (
        s3_event_handler(client, "before-send.s3.PutObject", wait_for_the_other),
        acls_refused(client),
        ThreadPoolExecutor(max_workers=len(keys)) as pool,
    ):
        service = S3ImageService(storage)
        uploads = [pool.submit(service.upload, key=key, content=ContentFile(b"photo")) for key in keys]
        stored = [upload.result() for upload in uploads]
    assert stored == keys and bucket_keys() == sorted(keys)
    warnings = [record for record in caplog.records if "ACLs disabled" in record.getMessage()]
    assert len(warnings) == 1


def test_other_refusals_of_an_upload_are_not_taken_for_disabled_acls(bucket_keys):
    storage = PrivateMediaStorage(bucket_name="no-such-bucket-here")
    with pytest.raises(S3StorageError):
        S3ImageService(storage).upload(key=KEY, content=ContentFile(b"photo"))
    assert storage.bucket_refuses_acls is False


def test_settings_cannot_make_the_storage_public():
    with override_settings(AWS_DEFAULT_ACL="public-read", AWS_QUERYSTRING_AUTH=False, AWS_S3_CUSTOM_DOMAIN="cdn.x"):
        storage = PrivateMediaStorage()
    assert storage.default_acl == "private"
    assert storage.querystring_auth is True
    assert storage.custom_domain is None
    assert "X-Amz-Signature=" in storage.url(KEY)


def test_upload_keeps_original_name_as_download_name(bucket_keys, s3_client):
    content = ObjectContent(
        io.BytesIO(b"\xff\xd8photo"), name="image.jpg", content_type="image/jpeg", download_name="salón principal.jpg"
    )
    S3ImageService().upload(key=KEY, content=content)
    head = s3_client.head_object(Bucket=TEST_BUCKET, Key=KEY)
    assert head["ContentType"] == "image/jpeg"
    assert head["ContentDisposition"] == "inline; filename*=utf-8''sal%C3%B3n%20principal.jpg"


def test_storage_still_pickles_after_its_caches_are_built():
    import pickle

    storage = PrivateMediaStorage()
    before = storage.url(KEY)
    assert storage.quick_client is not None
    restored = pickle.loads(pickle.dumps(storage))  # noqa: S301 - our own bytes
    # The same URL as the original signs in the same window (signed on either side of it: a window may turn between).
    assert restored.url(KEY) in {before, storage.url(KEY)}


def test_with_cloudfront_configured_urls_are_cloudfront_signed_urls_on_its_domain(cloudfront_keys, settings):
    key_id, pem = next(iter(cloudfront_keys.items()))
    with cloudfront_settings(cloudfront_keys):
        storage = PrivateMediaStorage()
        before = time.time()
        url = storage.url(KEY, expire=3600)
        again = storage.url(KEY, expire=3600)
    assert url.startswith(f"https://d111111abcdef8.cloudfront.net/{KEY}?Expires=") and again == url
    policy, query = cloudfront_url_policy(url)
    assert query["Key-Pair-Id"] == key_id and cloudfront_verified(policy, query["Signature"], pem)
    # Alive from the asked expiry to the asked expiry plus the stable window.
    lifetime = int(query["Expires"]) - before
    assert 3600 - 2 <= lifetime <= 3600 + settings.AWS_PRESIGNED_URL_STABLE_WINDOW + 2


def test_cloudfront_urls_never_live_past_seven_days(cloudfront_keys):
    with cloudfront_settings(cloudfront_keys):
        url = PrivateMediaStorage().url(KEY, expire=604800)
    _policy, query = cloudfront_url_policy(url)
    assert int(query["Expires"]) <= time.time() + 604800 + 1


def test_switching_the_active_cloudfront_key_is_a_setting(cloudfront_keys):
    old_id, new_id = cloudfront_keys
    with cloudfront_settings(cloudfront_keys, active=new_id):
        url = PrivateMediaStorage().url(KEY)
    policy, query = cloudfront_url_policy(url)
    assert query["Key-Pair-Id"] == new_id
    assert cloudfront_verified(policy, query["Signature"], cloudfront_keys[new_id])
    assert not cloudfront_verified(policy, query["Signature"], cloudfront_keys[old_id])


def test_an_active_cloudfront_key_id_that_names_no_configured_key_stops_the_start(cloudfront_keys):
    with cloudfront_settings(cloudfront_keys, active="KUNKNOWN"), pytest.raises(ImproperlyConfigured, match="KUNKNOWN"):
        PrivateMediaStorage()


@pytest.mark.parametrize(
    "missing",
    [
        {"AWS_S3_CUSTOM_DOMAIN": None},
        {"AWS_CLOUDFRONT_KEY_ID": None, "AWS_CLOUDFRONT_KEY": None, "AWS_CLOUDFRONT_ACTIVE_KEY_ID": None},
    ],
)
def test_without_the_cdn_domain_or_a_key_urls_are_s3_presigned_urls(cloudfront_keys, missing):
    no_second_key = {"AWS_CLOUDFRONT_SECOND_KEY_ID": None, "AWS_CLOUDFRONT_SECOND_KEY": None}
    with cloudfront_settings(cloudfront_keys, **no_second_key, **missing):
        storage = PrivateMediaStorage()
        url = storage.url(KEY)
    assert storage.custom_domain is None
    assert "cloudfront" not in url and "X-Amz-Signature=" in url


def test_urls_left_to_django_storages_are_signed_with_the_active_key_too(cloudfront_keys):
    _old_id, new_id = cloudfront_keys
    with cloudfront_settings(cloudfront_keys, active=new_id, AWS_CLOUDFRONT_KEY_ID=None, AWS_CLOUDFRONT_KEY=None):
        storage = PrivateMediaStorage()
        url = storage.url(KEY, parameters={"response-content-type": "image/jpeg"})
    assert url.startswith(f"https://d111111abcdef8.cloudfront.net/{KEY}?response-content-type=image%2Fjpeg&Expires=")
    assert f"&Key-Pair-Id={new_id}" in url and "&Signature=" in url


def test_a_storage_with_cloudfront_still_pickles(cloudfront_keys):
    import pickle

    with cloudfront_settings(cloudfront_keys):
        storage = PrivateMediaStorage()
        url = storage.url(KEY)
        restored = pickle.loads(pickle.dumps(storage))  # noqa: S301 - our own bytes
        assert restored.url(KEY) == url
        assert restored.url(KEY, parameters={"a": "b"}).split("&Key-Pair-Id=")[1] == next(iter(cloudfront_keys))


def test_urls_with_an_end_stop_working_then_and_leave_the_windows_memo_alone(stored_object):
    storage = storages["default"]
    storage.url(KEY)  # the list's URL, remembered for the window
    memo = storage.fast_presigner.memo
    window_before = memo._current
    ends_at = int(time.time()) + 30
    (url,) = storage.signed_urls([KEY], ends_at=ends_at)
    query = dict(parse_qsl(urlsplit(url).query))
    signed_at = calendar.timegm(time.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ"))
    assert signed_at + int(query["X-Amz-Expires"]) == ends_at
    assert memo._current is window_before and url not in window_before[1].values()
    assert requests.get(url, timeout=10).content == stored_object  # S3 takes it ...
    assert storage.signed_urls([KEY], ends_at=ends_at) == [url]  # ... and it is the same all minute


def test_cloudfront_urls_with_an_end_stop_working_then(cloudfront_keys):
    with cloudfront_settings(cloudfront_keys):
        storage = PrivateMediaStorage()
        ends_at = int(time.time()) + 90
        (url,) = storage.signed_urls([KEY], ends_at=ends_at)
        remembered = storage.cdn.memo._current
    _policy, query = cloudfront_url_policy(url)
    assert int(query["Expires"]) == ends_at and remembered == (None, {})
