"""The hand-tuned presigner gives botocore's URL byte for byte, and S3 accepts it."""

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import botocore.session
import pytest
import requests
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.presigner import (
    MAX_PRESIGNED_EXPIRY,
    S3QueryPresigner,
    WindowMemo,
    day_signer,
    hmac_hexdigest,
    signing_key,
    stable_signing_time,
)
from backend.storage_backends import PrivateMediaStorage
from testing import TEST_BUCKET

ENDPOINTS = [None, "http://127.0.0.1:8333", "https://s3.example.com", "http://localhost:9000", "https://minio.lan:443"]
BUCKETS = ["alca-inmo", "alca.inmo.photos", "a1-b2-c3"]
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
TOKENS = [None, "FwoGZXIvYXdzEJr//////////wEaDH+token/with=odd+chars%=="]

# Keys with the characters that quoting gets wrong: spaces, unicode, +, %, ~, reserved and unreserved marks.
KEY_ALPHABET = st.sampled_from([*list("abcXYZ019/ +%~-_.!*'()&$,;=:@?#[]\"<>\\^`{|}"), "ñ", "é", "ü", "☀", "日", "😀"])
keys = st.one_of(
    st.text(KEY_ALPHABET, min_size=1, max_size=60),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=60),
).filter(lambda key: not key.startswith("/"))
signing_times = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda moment: moment.replace(microsecond=0)
)


@cache
def storage_for(endpoint, bucket, region, style, token) -> PrivateMediaStorage:
    return PrivateMediaStorage(
        access_key="AKIAEXAMPLE",
        secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        security_token=token,
        endpoint_url=endpoint,
        bucket_name=bucket,
        region_name=region,
        client_config=Config(signature_version="s3v4", s3={"addressing_style": style}),
    )


def botocore_url(storage, key, *, at: datetime, expires_in: int, monkeypatch) -> str:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda remove_tzinfo=True: at)
    return storage.connection.meta.client.generate_presigned_url(
        "get_object", Params={"Bucket": storage.bucket_name, "Key": key}, ExpiresIn=expires_in
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    key=keys,
    endpoint=st.sampled_from(ENDPOINTS),
    bucket=st.sampled_from(BUCKETS),
    region=st.sampled_from(REGIONS),
    style=st.sampled_from(["path", "virtual"]),
    token=st.sampled_from(TOKENS),
    at=signing_times,
    expires_in=st.integers(min_value=1, max_value=MAX_PRESIGNED_EXPIRY),
)
def test_presigner_matches_botocore_byte_for_byte(
    key, endpoint, bucket, region, style, token, at, expires_in, monkeypatch
):
    storage = storage_for(endpoint, bucket, region, style, token)
    expected = botocore_url(storage, key, at=at, expires_in=expires_in, monkeypatch=monkeypatch)
    assert storage.fast_presigner is not None
    assert storage.fast_presigner.presign_get(key, signed_at=at, expires_in=expires_in) == expected


@settings(max_examples=300, deadline=None)
@given(
    secret=st.text(min_size=1, max_size=100),
    datestamp=st.dates().map(lambda day: day.strftime("%Y%m%d")),
    region=st.sampled_from(REGIONS),
    message=st.binary(max_size=300),
)
def test_the_hand_built_hmac_equals_the_standard_librarys(secret, datestamp, region, message):
    expected = hmac.new(signing_key(secret, datestamp, region), message, hashlib.sha256).hexdigest()
    assert hmac_hexdigest(day_signer(secret, datestamp, region), message) == expected
    assert hmac_hexdigest(day_signer(secret, datestamp, region), message) == expected  # the cached states are unchanged


def test_storage_url_uses_the_fast_presigner_and_s3_accepts_it(s3_server, bucket_keys, monkeypatch):
    storage = PrivateMediaStorage()
    storage.save("properties/houseforsale/1/a b+c~ñ%.jpg", __import__("io").BytesIO(b"photo bytes"))
    url = storage.url("properties/houseforsale/1/a b+c~ñ%.jpg")
    query = parse_qs(urlsplit(url).query)
    signed_at = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    expected = botocore_url(
        storage,
        "properties/houseforsale/1/a b+c~ñ%.jpg",
        at=signed_at,
        expires_in=int(query["X-Amz-Expires"][0]),
        monkeypatch=monkeypatch,
    )
    assert url == expected
    response = requests.get(url, timeout=10)
    assert response.status_code == 200 and response.content == b"photo bytes"


def test_temporary_credentials_are_signed_with_their_token_and_accepted_by_the_rules():
    storage = storage_for("http://127.0.0.1:8333", "alca-inmo", "us-east-1", "path", TOKENS[1])
    url = storage.url("properties/a.jpg")
    assert parse_qs(urlsplit(url).query)["X-Amz-Security-Token"] == [TOKENS[1]]


def test_rotated_credentials_are_picked_up_without_a_restart(monkeypatch):
    issued = iter(["ROTATED1", "ROTATED2"])

    def refresh():
        return {
            "access_key": next(issued),
            "secret_key": "secret",
            "token": "token",
            "expiry_time": (datetime.now(UTC) + timedelta(hours=1)).isoformat(),
        }

    credentials = RefreshableCredentials.create_from_metadata(refresh(), refresh_using=refresh, method="test")
    core_session = botocore.session.get_session()
    core_session._credentials = credentials
    storage = PrivateMediaStorage(endpoint_url="http://127.0.0.1:8333", access_key=None, secret_key=None)
    monkeypatch.setattr(storage, "_create_session", lambda: boto3.Session(botocore_session=core_session))
    assert "ROTATED1%2F" in storage.url("properties/a.jpg")
    # The role's credentials reach their expiry (as an hour passing would do): the next URL uses the new ones.
    credentials._expiry_time = datetime.now(UTC) - timedelta(seconds=1)
    assert "ROTATED2%2F" in storage.url("properties/a.jpg")


def test_unusual_requests_fall_back_to_botocore():
    storage = storage_for("http://127.0.0.1:8333", "alca-inmo", "us-east-1", "path", None)
    with_parameters = storage.url("properties/a.jpg", parameters={"ResponseContentDisposition": "attachment"})
    assert "response-content-disposition=attachment" in with_parameters
    sigv2 = PrivateMediaStorage(
        access_key="AK",
        secret_key="SK",
        endpoint_url="http://127.0.0.1:8333",
        client_config=Config(signature_version="s3"),
    )
    assert sigv2.fast_presigner is None
    assert "AWSAccessKeyId=AK" in sigv2.url("properties/a.jpg")


def test_presigner_without_credentials_raises_like_botocore():
    from botocore.exceptions import NoCredentialsError

    presigner = S3QueryPresigner(base_url="http://127.0.0.1:8333/b/", region="us-east-1", credentials=lambda: None)
    with pytest.raises(NoCredentialsError):
        presigner.presign_get("k", signed_at=datetime(2026, 1, 1), expires_in=60)
    empty = ReadOnlyCredentials("", "", None)
    presigner = S3QueryPresigner(base_url="http://127.0.0.1:8333/b/", region="us-east-1", credentials=lambda: empty)
    with pytest.raises(NoCredentialsError):
        presigner.presign_get("k", signed_at=datetime(2026, 1, 1), expires_in=60)


def test_the_same_image_gives_the_same_url_within_the_window(settings):
    settings.AWS_PRESIGNED_URL_STABLE_WINDOW = 600
    storage = PrivateMediaStorage()
    assert storage.url("properties/a.jpg", expire=7200) == storage.url("properties/a.jpg", expire=7200)
    assert storage.url("properties/a.jpg", expire=7200) != storage.url("properties/a.jpg", expire=3600)
    assert storage.url("properties/a.jpg") != storage.url("properties/b.jpg")


@given(
    now=st.integers(min_value=1_600_000_000, max_value=2_100_000_000),
    expires_in=st.integers(min_value=1, max_value=MAX_PRESIGNED_EXPIRY),
    window=st.integers(min_value=0, max_value=86400),
    data=st.data(),
)
def test_stable_urls_live_at_least_as_long_as_asked_and_at_most_seven_days(now, expires_in, window, data):
    signed_at, url_expires_in = stable_signing_time(now=now, expires_in=expires_in, window=window)
    assert signed_at <= now
    assert url_expires_in <= MAX_PRESIGNED_EXPIRY
    assert signed_at + url_expires_in - now >= expires_in
    effective_window = min(window, MAX_PRESIGNED_EXPIRY - expires_in)
    if effective_window > 0:
        same_window = data.draw(st.integers(min_value=signed_at, max_value=signed_at + effective_window - 1))
        assert stable_signing_time(now=same_window, expires_in=expires_in, window=window) == (signed_at, url_expires_in)


def test_real_s3_accepts_a_url_signed_at_the_start_of_the_window(s3_server, bucket_keys, settings):
    settings.AWS_PRESIGNED_URL_STABLE_WINDOW = 600
    storage = PrivateMediaStorage()
    storage.save("properties/houseforrent/2/w.png", __import__("io").BytesIO(b"png"))
    url = storage.url("properties/houseforrent/2/w.png", expire=60)
    assert int(parse_qs(urlsplit(url).query)["X-Amz-Expires"][0]) == 660
    assert requests.get(url, timeout=10).status_code == 200
    assert TEST_BUCKET in url


def test_a_signing_still_in_the_last_window_never_leaves_its_url_in_the_next_windows_memo():
    credentials = ReadOnlyCredentials("AKIDEXAMPLE", "secret", None)
    presigner = S3QueryPresigner(
        base_url="http://127.0.0.1:8333/b/", region="us-east-1", credentials=lambda: credentials
    )
    last_window, next_window = 1_700_000_000, 1_700_000_600
    sign = presigner.sign

    def sign_while_another_thread_enters_the_next_window(key, signed_at, expires_in, credentials):
        if signed_at == last_window:
            presigner.presign_get("other.jpg", signed_at=next_window, expires_in=3600)
        return sign(key, signed_at, expires_in, credentials)

    presigner.sign = sign_while_another_thread_enters_the_next_window
    presigner.presign_get("photo.jpg", signed_at=last_window, expires_in=3600)
    presigner.sign = sign
    assert presigner.presign_get("photo.jpg", signed_at=next_window, expires_in=3600) == sign(
        "photo.jpg", next_window, 3600, credentials
    )


def test_the_window_memo_starts_afresh_each_window_and_stops_remembering_when_full(monkeypatch):
    memo = WindowMemo()
    monkeypatch.setattr(memo, "size", 2)
    urls = memo.urls((1, "key one"))
    for number in range(3):
        assert memo.remember(urls, f"k{number}", f"url{number}") == f"url{number}"
    assert memo.urls((1, "key one")) == {"k0": "url0", "k1": "url1"}
    assert memo.urls((1, "key two")) == {} and memo.urls((2, "key two")) == {}
