"""The private S3 storage for property images, and the S3 operations the app needs on top of it."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import cached_property
from tempfile import SpooledTemporaryFile
from typing import IO

from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials, RefreshableCredentials
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import determine_content_length
from django.conf import DEFAULT_STORAGE_ALIAS, settings
from django.core.files.storage import default_storage, storages
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .buckets import s3_error_code
from .presigner import S3QueryPresigner

logger = logging.getLogger(__name__)

# S3's answer to an ACL sent to a bucket whose Object Ownership is "bucket owner enforced".
ACLS_NOT_SUPPORTED = "AccessControlListNotSupported"
# Makes the switch to writing without an ACL, and its warning, happen once however many uploads are refused.
_acl_fallback_lock = threading.Lock()
# SigV4 presigned URLs live at most 7 days.
MAX_PRESIGNED_EXPIRY = 604800
# A key that clean_name() and safe_join() would leave as it is: no "." or ".." segments, no "//", no "\\".
NORMAL_KEY = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*(?:/[A-Za-z0-9_~-][A-Za-z0-9_.~-]*)*")


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


class PrivateMediaStorage(S3Storage):
    """S3 storage whose objects are always private and whose URLs are always presigned.

    These class attributes win over the AWS_* settings (django-storages applies a
    setting only where the class has no value), so no setting can make a file public.
    """

    default_acl = "private"
    querystring_auth = True
    custom_domain = None  # a custom domain would hand out unsigned URLs
    file_overwrite = False
    # Set once the bucket has refused an ACL (Object Ownership "bucket owner enforced"): from then on
    # objects are written without one, which on such a bucket is the only way they are written at all.
    bucket_refuses_acls = False

    def get_default_settings(self) -> dict:
        return {
            **super().get_default_settings(),
            "presigned_url_stable_window": getattr(settings, "AWS_PRESIGNED_URL_STABLE_WINDOW", 600),
        }

    def __getstate__(self) -> dict:
        state = super().__getstate__()
        # Both hold credentials or connections: rebuilt on first use.
        state.pop("fast_presigner", None)
        state.pop("quick_client", None)
        return state

    def url(self, name: str, parameters: dict | None = None, expire: int | None = None, http_method=None) -> str:
        """A presigned GET URL, stable within AWS_PRESIGNED_URL_STABLE_WINDOW; botocore for anything unusual."""
        presigner = self.fast_presigner if not parameters and http_method in (None, "GET") else None
        if presigner is None:
            return super().url(name, parameters=parameters, expire=expire, http_method=http_method)
        expires_in = self.querystring_expire if expire is None else int(expire)
        signed_at, url_expires_in = stable_signing_time(int(time.time()), expires_in, self.presigned_url_stable_window)
        # Keys this app writes are already normal; only others pay for django-storages' normalisation.
        key = name if not self.location and NORMAL_KEY.fullmatch(name) else self._normalize_name(clean_name(name))
        return presigner.presign_get(key, signed_at=signed_at, expires_in=url_expires_in)

    @cached_property
    def fast_presigner(self) -> S3QueryPresigner | None:
        """The hand-tuned presigner, or None where this configuration needs botocore's own."""
        config = self.client_config
        s3_options = config.s3 or {}
        unsupported = (
            config.signature_version not in ("s3v4", "v4")
            or not self.region_name
            or self.cloudfront_signer
            or any(s3_options.get(option) for option in ("use_accelerate_endpoint", "use_dualstack_endpoint"))
            or ":" in (self.bucket_name or "")  # access points and other ARNs
        )
        if unsupported:
            return None
        # The URL of a key without a signature, from botocore itself: every endpoint rule it applies is kept.
        unsigned_url = self.unsigned_connection.meta.client.generate_presigned_url(
            "get_object", Params={"Bucket": self.bucket_name, "Key": "k"}
        )
        if not unsigned_url.endswith("/k"):
            return None
        return S3QueryPresigner(
            base_url=unsigned_url[:-1], region=self.region_name, credentials=frozen_credentials_source(self)
        )

    @cached_property
    def quick_client(self):
        """A client for this bucket that gives up after 2 s and one attempt: for health checks."""
        config = self.client_config.merge(
            Config(connect_timeout=2, read_timeout=2, retries={"mode": "standard", "total_max_attempts": 1})
        )
        return self._create_session().client(
            "s3",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            config=config,
            use_ssl=self.use_ssl,
            verify=self.verify,
        )

    def _create_session(self):
        session = super()._create_session()
        # Where botocore's own handler adds the header (every S3 call), and after it.
        session.events.register_last("before-call.s3", send_small_bodies_without_waiting)
        return session

    def _save(self, name: str, content) -> str:
        """Write the object with the guide's private ACL, or without any on a bucket that has ACLs disabled.

        Such a bucket (AWS's default for new buckets, and what ensure_bucket creates) refuses every ACL but
        bucket-owner-full-control with AccessControlListNotSupported; its objects are private through Block
        Public Access and the bucket policy, never through ACLs. The first refusal is logged and remembered;
        an upload refused for its ACL is always sent again without it.
        """
        sent_acl = not self.bucket_refuses_acls
        try:
            return super()._save(name, content)
        except ClientError as error:
            # Uploads running side by side may all have sent the ACL before the first refusal: each retries.
            if not sent_acl or s3_error_code(error) != ACLS_NOT_SUPPORTED:
                raise
        with _acl_fallback_lock:
            first_refusal = not self.bucket_refuses_acls
            self.bucket_refuses_acls = True
        if first_refusal:
            logger.warning(
                "Bucket %s has ACLs disabled (Object Ownership: bucket owner enforced): writing objects without "
                "an ACL from now on; they are private through the bucket's public access block and policy",
                self.bucket_name,
            )
        return super()._save(name, content)

    def _get_write_parameters(self, name: str, content=None) -> dict:
        """Add the original file name as the download name of the object (and leave out a refused ACL)."""
        params = super()._get_write_parameters(name, content)
        if self.bucket_refuses_acls:
            params.pop("ACL", None)
        download_name = getattr(content, "download_name", None)
        if download_name:
            params["ContentDisposition"] = content_disposition_header(as_attachment=False, filename=download_name)
        return params


# Bodies up to this size are sent without first waiting for S3's `100 Continue`.
SMALL_BODY_SIZE = 1024 * 1024


def send_small_bodies_without_waiting(params: dict, **kwargs) -> None:
    """botocore asks S3 for a `100 Continue` before sending any file-like body, which costs a whole
    round trip before the first byte (our thumbnails and most variants are a few dozen KB). A small body
    is sent straight away: if S3 refuses the request, little was sent in vain."""
    headers = params.get("headers", {})
    if headers.get("Expect") == "100-continue":
        size = determine_content_length(params.get("body"))
        if size is not None and size <= SMALL_BODY_SIZE:
            del headers["Expect"]


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


class S3StorageError(Exception):
    """S3 could not be reached or refused an operation; the caller may retry later."""


class BucketRefusesAcls(Exception):
    """The bucket has ACLs disabled (Object Ownership "bucket owner enforced"): access is by policy alone."""


class S3ImageService:
    """Upload, delete and presign property image objects, with errors logged and wrapped."""

    def __init__(self, storage: S3Storage | None = None) -> None:
        # The storage itself rather than Django's lazy default_storage proxy (what a FileField without its
        # own storage holds): each attribute read through the proxy costs more than signing a URL.
        self.storage = storages[DEFAULT_STORAGE_ALIAS] if storage is None or storage is default_storage else storage

    def upload(self, *, key: str, content: IO[bytes]) -> str:
        """Store `content` under exactly `key` and return the key.

        `content` may carry `content_type` (the object's Content-Type) and
        `download_name` (its Content-Disposition file name).
        """
        try:
            # Storage._save writes under exactly this key. Storage.save would first ask S3 whether the
            # key is taken (one more round trip per photo): keys are generated unique, so it never is.
            return self.storage._save(key, content)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 upload failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not store {key}") from error

    def delete(self, *, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        try:
            self.storage.delete(key)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 delete failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not delete {key}") from error

    def delete_quietly(self, keys: list[str]) -> None:
        """Delete each object; one that cannot be deleted is logged, for `sweep_orphans` to find later."""
        for key in keys:
            try:
                self.delete(key=key)
            except S3StorageError:
                logger.error("Orphaned S3 object left behind key=%s", key)

    def delete_many(self, keys: list[str]) -> None:
        """Delete the objects in one request per 1000 keys (S3's DeleteObjects); missing ones are not an error.

        S3StorageError if S3 cannot be reached or refuses any of them.
        """
        for start in range(0, len(keys), 1000):
            batch = keys[start : start + 1000]
            try:
                answer = self.client.delete_objects(
                    Bucket=self.bucket_name, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            except (BotoCoreError, ClientError) as error:
                logger.error("S3 delete failed keys=%s error=%s", len(batch), type(error).__name__)
                raise S3StorageError(f"could not delete {len(batch)} objects") from error
            refused = answer.get("Errors", [])
            if refused:
                logger.error("S3 refused to delete keys=%s code=%s", len(refused), refused[0].get("Code"))
                raise S3StorageError(f"could not delete {refused[0]['Key']}")

    def generate_presigned_url(self, *, key: str, expiration: int | None = None) -> str | None:
        """A presigned GET URL for `key`, or None when it cannot be signed (no credentials, bad config)."""
        try:
            return self.storage.url(key, expire=expiration)
        except (BotoCoreError, ClientError, ValueError) as error:
            logger.error("Could not presign key=%s error=%s", key, type(error).__name__)
            return None

    @property
    def client(self):
        """The storage's boto3 S3 client (one per thread, created lazily by django-storages)."""
        return self.storage.connection.meta.client

    @property
    def bucket_name(self) -> str:
        return self.storage.bucket_name

    def list_objects(self, *, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last modified) of every object under `prefix`, page by page."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 list failed prefix=%s error=%s", prefix, type(error).__name__)
            raise S3StorageError(f"could not list {prefix}") from error

    def presigned_post(self, *, key: str, max_size: int, expires_in: int) -> dict:
        """A presigned POST for one key: S3 itself refuses bodies over `max_size` and non-image Content-Types."""
        try:
            return self.client.generate_presigned_post(
                Bucket=self.bucket_name,
                Key=key,
                Conditions=[["content-length-range", 1, max_size], ["starts-with", "$Content-Type", "image/"]],
                ExpiresIn=expires_in,
            )
        except (BotoCoreError, ClientError) as error:
            logger.error("Could not presign a POST key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not presign a POST for {key}") from error

    def download(self, *, key: str, max_size: int) -> IO[bytes]:
        """The object's bytes in a temporary file (memory up to 1 MB); FileNotFoundError when there is none."""
        content = SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - the caller closes it
        try:
            self._download_into(content, key=key, max_size=max_size)
        except BaseException:
            content.close()
            raise
        content.seek(0)
        return content

    def _download_into(self, content: IO[bytes], *, key: str, max_size: int) -> None:
        try:
            head = self.client.head_object(Bucket=self.bucket_name, Key=key)
            if head["ContentLength"] > max_size:
                raise ValueError(f"{key} is larger than {max_size} bytes")
            self.client.download_fileobj(self.bucket_name, key, content)
        except (BotoCoreError, ClientError) as error:
            if s3_error_code(error) in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(key) from error
            logger.error("S3 download failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not read {key}") from error

    def make_private(self, *, key: str) -> None:
        """Set the object's ACL to private (the guide's migration of objects stored before this storage).

        BucketRefusesAcls on a bucket with ACLs disabled, where no object is public through an ACL.
        """
        try:
            self.client.put_object_acl(Bucket=self.bucket_name, Key=key, ACL="private")
        except (BotoCoreError, ClientError) as error:
            if s3_error_code(error) == ACLS_NOT_SUPPORTED:
                raise BucketRefusesAcls(self.bucket_name) from error
            logger.error("S3 put ACL failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not make {key} private") from error

    def bucket_is_reachable(self) -> bool:
        """One quick HEAD of the bucket, without retries: for health checks."""
        try:
            self.storage.quick_client.head_bucket(Bucket=self.bucket_name)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 health check failed bucket=%s error=%s", self.bucket_name, type(error).__name__)
            return False
        return True
