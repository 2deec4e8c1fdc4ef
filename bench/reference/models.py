"""The guide's storage, S3ImageService and PropertyImage, written plainly on django-storages and boto3."""

from __future__ import annotations

import logging
from typing import ClassVar

from botocore.exceptions import ClientError
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from storages.backends.s3 import S3Storage

logger = logging.getLogger(__name__)


class PrivateMediaStorage(S3Storage):
    default_acl = "private"
    file_overwrite = False
    custom_domain = False
    querystring_auth = True


# One storage for the process, as Django's default_storage is: it keeps its boto3 connection per thread.
private_storage = PrivateMediaStorage()


class S3ImageService:
    def __init__(self):
        self.storage = private_storage

    def generate_presigned_url(self, key: str, expiration: int = 3600) -> str | None:
        try:
            return self.storage.connection.meta.client.generate_presigned_url(
                "get_object",
                Params={"Bucket": self.storage.bucket_name, "Key": key},
                ExpiresIn=expiration,
            )
        except ClientError as error:
            logger.error("Error generating presigned URL: %s", error)
            return None


class PropertyImage(models.Model):
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE)
    object_id = models.PositiveIntegerField()
    content_object = GenericForeignKey("content_type", "object_id")
    image = models.ImageField(upload_to="properties/", storage=private_storage)
    caption = models.CharField(max_length=255, blank=True)
    is_main = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    # Django's default, written out: the type checker runs with the project's settings, without this app.
    objects: ClassVar[models.Manager[PropertyImage]] = models.Manager()

    class Meta:
        ordering = ["order", "uploaded_at"]

    def __str__(self) -> str:
        return self.image.name or ""

    def get_secure_url(self, expiration: int = 3600) -> str | None:
        return S3ImageService().generate_presigned_url(self.image.name, expiration) if self.image.name else None
