"""The private S3 storage for property images, and the S3 operations the app needs on top of it."""

from __future__ import annotations

import logging
from typing import IO

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)


class PrivateMediaStorage(S3Storage):
    """S3 storage whose objects are always private and whose URLs are always presigned.

    These class attributes win over the AWS_* settings (django-storages applies a
    setting only where the class has no value), so no setting can make a file public.
    """

    default_acl = "private"
    querystring_auth = True
    custom_domain = None  # a custom domain would hand out unsigned URLs
    file_overwrite = False

    def _get_write_parameters(self, name: str, content=None) -> dict:
        """Add the original file name as the download name of the object."""
        params = super()._get_write_parameters(name, content)
        download_name = getattr(content, "download_name", None)
        if download_name:
            params["ContentDisposition"] = content_disposition_header(as_attachment=False, filename=download_name)
        return params


class S3StorageError(Exception):
    """S3 could not be reached or refused an operation; the caller may retry later."""


class S3ImageService:
    """Upload, delete and presign property image objects, with errors logged and wrapped."""

    def __init__(self, storage: S3Storage | None = None) -> None:
        self.storage = storage if storage is not None else default_storage

    def upload(self, *, key: str, content: IO[bytes]) -> str:
        """Store `content` under exactly `key` and return the key.

        `content` may carry `content_type` (the object's Content-Type) and
        `download_name` (its Content-Disposition file name).
        """
        try:
            stored_key = self.storage.save(key, content)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 upload failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not store {key}") from error
        if stored_key != key:
            # The key is generated to be unique: a clash means a clock or uuid problem, not a user error.
            self.delete(key=stored_key)
            raise S3StorageError(f"key {key} already exists")
        return stored_key

    def delete(self, *, key: str) -> None:
        """Delete the object; deleting a missing object is not an error."""
        try:
            self.storage.delete(key)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 delete failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not delete {key}") from error

    def exists(self, *, key: str) -> bool:
        try:
            return self.storage.exists(key)
        except (BotoCoreError, ClientError) as error:
            logger.error("S3 head failed key=%s error=%s", key, type(error).__name__)
            raise S3StorageError(f"could not check {key}") from error

    def generate_presigned_url(self, *, key: str, expiration: int | None = None) -> str | None:
        """A presigned GET URL for `key`, or None when it cannot be signed (no credentials, bad config)."""
        try:
            return self.storage.url(key, expire=expiration)
        except (BotoCoreError, ClientError, ValueError) as error:
            logger.error("Could not presign key=%s error=%s", key, type(error).__name__)
            return None
