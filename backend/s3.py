"""The S3 operations the app needs beyond the storage API (django-storages' S3Storage): uploads under an exact
key, batch deletes, listing, presigned POSTs, capped downloads, streamed reads, ACLs and the bucket probe. Every
failure is logged once and raised as S3StorageError (services turn it into StorageUnavailable, which the API answers
503; the health check into "unavailable"). Only delete_quietly, for cleanups whose failure leaves an orphan to
sweep_orphans, logs instead of raising."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from tempfile import SpooledTemporaryFile
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage

from .buckets import s3_error_code
from .storage_backends import ACLS_NOT_SUPPORTED, ObjectContent, PrivateMediaStorage, private_media_storage

logger = logging.getLogger(__name__)


class S3StorageError(Exception):
    """S3 could not be reached or refused an operation; the caller may retry later."""


class BucketRefusesAcls(Exception):
    """The bucket has ACLs disabled (Object Ownership "bucket owner enforced"): access is by policy alone."""


@contextmanager
def s3_failures(operation: str, failure: str, **details: object):
    """Raise an S3 call that failed as S3StorageError(failure), logged on one line: `S3 <operation> failed
    <name>=<value>... error=<botocore's error class>` (never a traceback, never a signed URL)."""
    try:
        yield
    except (BotoCoreError, ClientError) as error:
        fields = " ".join(f"{name}={value}" for name, value in details.items())
        logger.error("S3 %s failed %s error=%s", operation, fields, type(error).__name__)
        raise S3StorageError(failure) from error


class S3ImageService:
    """Upload, delete and presign property image objects, with errors logged and wrapped."""

    def __init__(self, storage: PrivateMediaStorage | None = None) -> None:
        # Not Django's lazy default_storage proxy, what a FileField without its own storage holds.
        self.storage = private_media_storage() if storage is None or storage is default_storage else storage

    def upload(
        self, *, key: str, content: IO[bytes], content_type: str | None = None, download_name: str | None = None
    ) -> str:
        """Store `content` (from its start) under exactly `key` and return the key: with `content_type`, the object's
        Content-Type, and `download_name` its Content-Disposition file name (else an ObjectContent says them)."""
        if content_type is not None:
            content.seek(0)
            content = ObjectContent(content, name=key, content_type=content_type, download_name=download_name)
        with s3_failures("upload", f"could not store {key}", key=key):
            # Storage._save writes under exactly this key. Storage.save would first ask S3 whether the
            # key is taken (one more round trip per photo): keys are generated unique, so it never is.
            return self.storage._save(key, content)

    def delete(self, *, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        with s3_failures("delete", f"could not delete {key}", key=key):
            self.storage.delete(key)

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
            with s3_failures("delete", f"could not delete {len(batch)} objects", keys=len(batch)):
                answer = self.client.delete_objects(
                    Bucket=self.bucket_name, Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True}
                )
            refused = answer.get("Errors", [])
            if refused:
                logger.error("S3 refused to delete keys=%s code=%s", len(refused), refused[0].get("Code"))
                raise S3StorageError(f"could not delete {refused[0]['Key']}")

    @property
    def client(self):
        """The storage's boto3 S3 client (one per thread, created lazily by django-storages)."""
        return self.storage.connection.meta.client

    @property
    def bucket_name(self) -> str:
        return self.storage.bucket_name

    def list_objects(self, *, prefix: str) -> Iterator[tuple[str, datetime]]:
        """(key, last modified) of every object under `prefix`, page by page."""
        with s3_failures("list", f"could not list {prefix}", prefix=prefix):
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket_name, Prefix=prefix):
                for item in page.get("Contents", []):
                    yield item["Key"], item["LastModified"]

    def presigned_post(self, *, key: str, max_size: int, expires_in: int) -> dict:
        """A presigned POST for one key: S3 itself refuses bodies over `max_size` and non-image Content-Types."""
        with s3_failures("presign POST", f"could not presign a POST for {key}", key=key):
            return self.client.generate_presigned_post(
                Bucket=self.bucket_name,
                Key=key,
                Conditions=[["content-length-range", 1, max_size], ["starts-with", "$Content-Type", "image/"]],
                ExpiresIn=expires_in,
            )

    def object_chunks(self, *, key: str, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes a chunk at a time, as S3 sends them (asked for when first read): one chunk in memory
        whatever the object's size."""
        with s3_failures("read", f"could not read {key}", key=key):
            body = self.client.get_object(Bucket=self.bucket_name, Key=key)["Body"]
            try:
                yield from body.iter_chunks(chunk_size)
            finally:
                body.close()

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
        with s3_failures("download", f"could not read {key}", key=key):
            try:
                head = self.client.head_object(Bucket=self.bucket_name, Key=key)
                if head["ContentLength"] > max_size:
                    raise ValueError(f"{key} is larger than {max_size} bytes")
                self.client.download_fileobj(self.bucket_name, key, content)
            except ClientError as error:
                if s3_error_code(error) in ("404", "NoSuchKey", "NotFound"):
                    raise FileNotFoundError(key) from error
                raise

    def make_private(self, *, key: str) -> None:
        """Set the object's ACL to private (the guide's migration of objects stored before this storage).

        BucketRefusesAcls on a bucket with ACLs disabled, where no object is public through an ACL.
        """
        with s3_failures("put ACL", f"could not make {key} private", key=key):
            try:
                self.client.put_object_acl(Bucket=self.bucket_name, Key=key, ACL="private")
            except ClientError as error:
                if s3_error_code(error) == ACLS_NOT_SUPPORTED:
                    raise BucketRefusesAcls(self.bucket_name) from error
                raise

    def probe_bucket(self) -> None:
        """One quick HEAD of the bucket, without retries (for health checks); S3StorageError when it fails."""
        with s3_failures("health check", "the bucket does not answer", bucket=self.bucket_name):
            self.storage.quick_client.head_bucket(Bucket=self.bucket_name)
