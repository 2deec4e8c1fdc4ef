"""Direct uploads: the client posts a photo straight to S3 under a staging key only it was given, then asks the
server to check and store it exactly like a multipart upload."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from backend.exceptions import ApplicationError, StorageUnavailable
from backend.s3 import S3ImageService, S3StorageError

from ..models import House, PropertyImage, StagedUploadClaim
from ..tasks import objects_delete_later
from .uploads import IMAGES_NOT_STORED, UploadRejected, property_images_store

STAGING_PREFIX = "uploads/"
DIRECT_UPLOAD_EXPIRES_IN = 600  # 10 minutes to post the file
# A claim without an image this old belongs to a request that died (completing takes seconds): another may
# take it over.
STAGED_UPLOAD_CLAIM_TIMEOUT = timedelta(minutes=5)
# How long a completed upload's key keeps answering with its image (for clients that retry after a lost answer);
# sweep_orphans removes older claims.
COMPLETED_UPLOAD_MEMORY = timedelta(days=1)


class UploadKeyRejected(ApplicationError):
    status_code = 403
    message = "This upload key was not issued to you"


class UploadNotFound(ApplicationError):
    """Nothing was posted under the staging key (or it was already used)."""

    status_code = 404
    message = "Nothing was uploaded under this key: post the file to the upload URL first"


class UploadInProgress(ApplicationError):
    status_code = 409
    message = "Another request is completing this upload right now: send this one again in a moment"


class UploadUsedElsewhere(ApplicationError):
    status_code = 409
    message = "This upload was already completed for another property"


def direct_upload_issue(*, user_id: int) -> dict:
    """A presigned POST for one new staging key under `uploads/{user_id}/`."""
    key = f"{STAGING_PREFIX}{user_id}/{uuid.uuid4().hex}"
    max_size = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE
    try:
        post = S3ImageService().presigned_post(key=key, max_size=max_size, expires_in=DIRECT_UPLOAD_EXPIRES_IN)
    except S3StorageError as error:
        raise StorageUnavailable(
            "Could not prepare the upload: the storage service is unavailable, please retry"
        ) from error
    return {
        "url": post["url"],
        "fields": post["fields"],
        "key": key,
        "expires_in": DIRECT_UPLOAD_EXPIRES_IN,
        "max_size": max_size,
    }


def direct_upload_complete(
    *,
    user_id: int,
    key: str,
    house: House,
    filename: str = "",
    **details,
) -> list[PropertyImage]:
    """Check and store the file posted under `key` exactly like a multipart upload (with its `details`: caption,
    category, description, is_main, order, as property_images_store takes them), then drop the staging object.

    The staging object is deleted whatever the image turned out to be; it is kept only when S3
    itself failed, so that the client can complete again. One request at a time completes a key: another
    one meanwhile gets UploadInProgress, and for a day one after it gets the same image back (UploadUsedElsewhere
    if it names another property).
    """
    if not re.fullmatch(rf"{STAGING_PREFIX}{user_id}/[0-9a-f]{{32}}", key):
        raise UploadKeyRejected
    completed = (
        StagedUploadClaim.objects.filter(
            key=key, image__isnull=False, claimed_at__gte=timezone.now() - COMPLETED_UPLOAD_MEMORY
        )
        .select_related("image")
        .first()
    )
    if completed is not None and completed.image is not None:
        image = completed.image
        image_house = (ContentType.objects.get_for_id(image.content_type_id).model_class(), image.object_id)
        if image_house != (type(house), house.pk):
            raise UploadUsedElsewhere
        return [image]
    with staged_upload_claimed(key) as claim:
        images = _direct_upload_store(key=key, house=house, filename=filename, **details)
        claim.image = images[0]
        claim.save(update_fields=["image"])
    return images


@contextmanager
def staged_upload_claimed(key: str) -> Iterator[StagedUploadClaim]:
    """Claim `key` for the block, which sets the claim's image once it has stored one.

    UploadInProgress if another request holds the claim. If the block fails, the claim goes and the key may
    be completed again.
    """
    now = timezone.now()
    # This key's claim if no request holds it any more: its request died, or it was completed too long ago.
    StagedUploadClaim.objects.filter(
        Q(image=None, claimed_at__lt=now - STAGED_UPLOAD_CLAIM_TIMEOUT)
        | Q(claimed_at__lt=now - COMPLETED_UPLOAD_MEMORY),
        key=key,
    ).delete()
    try:
        with transaction.atomic():  # committed at once, so that other requests see it
            claim = StagedUploadClaim.objects.create(key=key)
    except IntegrityError:
        raise UploadInProgress from None
    try:
        yield claim
    except BaseException:
        StagedUploadClaim.objects.filter(pk=claim.pk).delete()
        raise


def staged_upload_claims_expired() -> QuerySet[StagedUploadClaim]:
    """Claims older than COMPLETED_UPLOAD_MEMORY: no request needs them any more (sweep_orphans deletes them)."""
    return StagedUploadClaim.objects.filter(claimed_at__lt=timezone.now() - COMPLETED_UPLOAD_MEMORY)


def _direct_upload_store(*, key: str, house: House, filename: str, **details) -> list[PropertyImage]:
    display_name = filename or "image"
    try:
        content = S3ImageService().download(key=key, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE)
    except FileNotFoundError as missing:
        raise UploadNotFound from missing
    except ValueError as too_large:
        objects_delete_later([key])
        raise UploadRejected(f"{display_name}: the file is larger than the upload limit") from too_large
    except S3StorageError as error:
        raise StorageUnavailable(IMAGES_NOT_STORED) from error
    try:
        images = property_images_store(house=house, files=[File(content, name=display_name)], **details)
    except StorageUnavailable:
        raise  # S3 failed: keep the staging object so that the client can complete again
    except BaseException:
        objects_delete_later([key])
        raise
    finally:
        content.close()
    objects_delete_later([key])
    return images
