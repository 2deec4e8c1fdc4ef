"""A SigV4 query-string presigner for S3 GET URLs: botocore's exact output at a fraction of its cost; and what it
signs with: stable signing windows and the storage's credentials.

botocore spends ~200-300 µs per presigned URL building and signing a whole request object.
The signature itself is one SHA-256 of the canonical request and one HMAC with a signing
key that only changes per day, region and secret, so that key is derived once and cached,
as are the date strings of the current signing time. The URL layout (scheme, host, bucket
in the path or in the host) is taken from botocore itself once per storage, so every
endpoint rule botocore applies is kept.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import re
import time
from collections.abc import Callable
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import NoCredentialsError

if TYPE_CHECKING:
    from storages.backends.s3 import S3Storage

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
# botocore quotes query values with these safe characters, and object keys with "/~".
QUERY_SAFE = "-_.~"
KEY_SAFE = "/~"
# Keys made only of characters that quoting leaves alone need no quoting (ours always are).
UNQUOTED_KEY = re.compile(r"[A-Za-z0-9_.~/-]+")
DEFAULT_PORTS = {"http": 80, "https": 443}
SHA256_BLOCK_SIZE = 64
# SigV4 presigned URLs live at most 7 days.
MAX_PRESIGNED_EXPIRY = 604800


class WindowMemo:
    """The URLs a signer made for one stable signing window (and signing key), replaced as a whole by the next
    window's: within a window the same key gives the same URL, and lists ask for it again and again. Both signers
    (S3QueryPresigner, cloudfront.CloudFrontSigner) keep one.

    A thread reads the current window once, so one still signing for the last window writes into that window's
    URLs, never the next one's. Keyed by strings, not tuples: the garbage collector then never has to walk it.
    """

    size = 50000  # URLs remembered per window, at most

    def __init__(self) -> None:
        self._current: tuple[object, dict[str, str]] = (None, {})

    def urls(self, window: object) -> dict[str, str]:
        """The URLs remembered for `window` (a signing time, with whatever else makes a URL differ)."""
        current, urls = self._current
        if current != window:
            urls = {}
            self._current = (window, urls)
        return urls

    def remember(self, urls: dict[str, str], memo_key: str, url: str) -> str:
        if len(urls) < self.size:
            urls[memo_key] = url
        return url


@lru_cache(maxsize=64)
def signing_key(secret_key: str, datestamp: str, region: str, service: str = "s3") -> bytes:
    """The SigV4 signing key: four HMACs, the same for every URL signed that day."""
    key = hmac.digest(f"AWS4{secret_key}".encode(), datestamp.encode(), "sha256")
    for part in (region, service, "aws4_request"):
        key = hmac.digest(key, part.encode(), "sha256")
    return key


@lru_cache(maxsize=64)
def day_signer(secret_key: str, datestamp: str, region: str) -> tuple[hashlib._Hash, hashlib._Hash]:
    """HMAC-SHA256 keyed with the day's signing key, as the inner and outer SHA-256 states after the
    padded key (RFC 2104): each URL copies them, which costs half of copying an hmac.HMAC object.
    Tests prove the result equal to hmac's and botocore's signatures."""
    key = signing_key(secret_key, datestamp, region).ljust(SHA256_BLOCK_SIZE, b"\0")
    return hashlib.sha256(bytes(byte ^ 0x36 for byte in key)), hashlib.sha256(bytes(byte ^ 0x5C for byte in key))


def hmac_hexdigest(states: tuple[hashlib._Hash, hashlib._Hash], message: bytes) -> str:
    """HMAC of `message` from day_signer's two states."""
    inner_state, outer_state = states
    inner = inner_state.copy()
    inner.update(message)
    outer = outer_state.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=64)
def credential_parameter(access_key: str, scope: str) -> str:
    return quote(f"{access_key}/{scope}", safe=QUERY_SAFE)


@lru_cache(maxsize=16)
def amz_date(epoch_seconds: int) -> str:
    """`20260101T120000Z`; cached, as stable URLs share one signing time for minutes."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(epoch_seconds))


def host_header(url: str) -> str:
    """The Host value botocore signs: lowercase host, port only when not the scheme's default."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None and parts.port != DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


class S3QueryPresigner:
    """Presigns GET URLs for keys under one base URL (`https://bucket.s3.amazonaws.com/`, `http://host/bucket/`)."""

    def __init__(self, *, base_url: str, region: str, credentials: Callable[[], ReadOnlyCredentials | None]) -> None:
        parts = urlsplit(base_url)
        if parts.query or parts.fragment or not parts.path.endswith("/"):
            raise ValueError(f"not a base URL for object keys: {base_url}")
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.path_prefix = parts.path
        self.host = host_header(base_url)
        self.region = region
        self.credentials = credentials
        self._scope_suffix = f"/{region}/s3/aws4_request"
        self.memo = WindowMemo()  # per signing time and credentials

    def presign_get(self, key: str, *, signed_at: datetime | int, expires_in: int, remember: bool = True) -> str:
        """The URL botocore's generate_presigned_url('get_object') gives for this key, time and expiry.

        `signed_at` is a UTC datetime (naive ones are read as UTC, as botocore does) or epoch seconds. Without
        `remember`, the URL is signed outside the window's memo (a signing time that is not the window's).
        """
        credentials = self.credentials()
        if credentials is None or not credentials.access_key or not credentials.secret_key:
            raise NoCredentialsError()
        if isinstance(signed_at, datetime):
            signed_at = calendar.timegm(signed_at.utctimetuple())
        if not remember:
            return self.sign(key, signed_at, expires_in, credentials)
        urls = self.memo.urls((signed_at, credentials))
        memo_key = f"{expires_in} {key}"
        url = urls.get(memo_key)
        if url is None:
            url = self.memo.remember(urls, memo_key, self.sign(key, signed_at, expires_in, credentials))
        return url

    def sign(self, key: str, signed_at: int, expires_in: int, credentials: ReadOnlyCredentials) -> str:
        """The signature computation itself, for epoch seconds, without the memo."""
        date_time = amz_date(signed_at)
        datestamp = date_time[:8]
        scope = datestamp + self._scope_suffix
        quoted_key = key if UNQUOTED_KEY.fullmatch(key) else quote(key.encode("utf-8"), safe=KEY_SAFE)
        path = self.path_prefix + quoted_key
        credential = credential_parameter(credentials.access_key, scope)
        # botocore's order in the URL; the canonical query sorts the same pairs by name.
        head = (
            f"X-Amz-Algorithm={ALGORITHM}&X-Amz-Credential={credential}"
            f"&X-Amz-Date={date_time}&X-Amz-Expires={expires_in}"
        )
        if credentials.token:
            token = quote(credentials.token, safe=QUERY_SAFE)
            query = f"{head}&X-Amz-SignedHeaders=host&X-Amz-Security-Token={token}"
            canonical_query = f"{head}&X-Amz-Security-Token={token}&X-Amz-SignedHeaders=host"
        else:
            query = canonical_query = f"{head}&X-Amz-SignedHeaders=host"
        canonical_request = f"GET\n{path}\n{canonical_query}\nhost:{self.host}\n\nhost\n{UNSIGNED_PAYLOAD}"
        string_to_sign = (
            f"{ALGORITHM}\n{date_time}\n{scope}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
        )
        signature = hmac_hexdigest(day_signer(credentials.secret_key, datestamp, self.region), string_to_sign.encode())
        return f"{self.origin}{path}?{query}&X-Amz-Signature={signature}"


def stable_signing_time(now: int, expires_in: int, window: int) -> tuple[int, int]:
    """(signing time, X-Amz-Expires) shared by every request in the same `window` seconds.

    Signing at the start of the window and adding the window to the expiry makes the URL
    identical for the whole window (browsers and CDNs can cache the image), while its
    remaining lifetime stays between `expires_in` and `expires_in + window`, never past 7 days.
    """
    window = min(window, MAX_PRESIGNED_EXPIRY - expires_in)
    if window <= 0:
        return now, expires_in
    return now - now % window, expires_in + window


def frozen_credentials_source(storage: S3Storage) -> Callable[[], ReadOnlyCredentials | None]:
    """botocore's credential chain for this storage, asked on every URL.

    Refreshable credentials (IAM role, STS) rotate under a running process, so they are frozen
    anew each time; static keys never change and are frozen once.
    """
    credentials = storage._create_session().get_credentials()
    if credentials is None:
        return lambda: None
    if isinstance(credentials, RefreshableCredentials):
        return credentials.get_frozen_credentials
    frozen = credentials.get_frozen_credentials()
    return lambda: frozen
