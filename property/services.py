"""Side effects on property images: storing, deleting and choosing the main one."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from typing import IO, TypeVar

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from backend.exceptions import DeletedMeanwhile
from backend.s3 import S3ImageService, S3StorageError

from .images import ImageRejected, SanitizedImage, configured_variant_keys, sanitize_image
from .models import MAX_ORDER, House, PropertyImage, StagedUploadClaim, VariantsStatus, property_image_key
from .tasks import image_variants_enqueue_on_commit, objects_delete_later

logger = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R")


class NoImagesProvided(Exception):
    """An upload request without any file."""


class PropertyNotFound(DeletedMeanwhile):
    """The house was deleted while its images were being stored or changed."""


class ImageNotFound(DeletedMeanwhile):
    """The image was deleted while a request was changing it."""


class TooManyImages(Exception):
    """More files in one request than PROPERTY_IMAGE_MAX_FILES."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"At most {limit} images can be uploaded in one request")


def property_images_store(
    *,
    house: House,
    files: Sequence[IO[bytes]],
    caption: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Check and re-encode every file, upload each, then create their rows in one transaction; their size
    variants are made by a background task enqueued when that transaction commits.

    One bad file rejects the whole request before anything is stored (the first bad one in request order is
    reported); if S3 or the database fails midway, every object this call uploaded is deleted again, so no
    row exists without its object and no object without its row.
    With `is_main`, the first file becomes the property's only main image.
    """
    if not files:
        raise NoImagesProvided
    if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:
        raise TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES)
    content_type = ContentType.objects.get_for_model(house)
    s3 = S3ImageService()
    keys: list[str] = []

    # Decoding and re-encoding is CPU work that Pillow does without the GIL: one file per core at a time
    # (bench/RESULTS.md, section 3, measures what this saves a bulk upload; memory holds at most that many
    # decoded photos). The uploads that follow overlap their round trips to S3 the same way.
    def checked(upload: IO[bytes]) -> SanitizedImage:
        return sanitize_image(upload, filename=getattr(upload, "name", None))

    def stored(image_and_key: tuple[SanitizedImage, str]) -> str:
        image, key = image_and_key
        return s3.upload(key=key, content=image.as_file())

    with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1)) as pool:
        sanitized = _each(pool, checked, files)
        try:
            for image in sanitized:
                extension = image.extension
                keys.append(
                    property_image_key(model_name=content_type.model, property_id=house.pk, extension=extension)
                )
            images_and_keys = list(zip(sanitized, keys, strict=True))
            _each(pool, stored, images_and_keys)
            return _create_image_rows(
                house=house,
                content_type=content_type,
                images=images_and_keys,
                caption=caption,
                is_main=is_main,
                order=order,
            )
        except BaseException:
            objects_delete_later(keys)  # those that were stored, and any a hung S3 may still store
            raise
        finally:
            for image in sanitized:
                image.close()


def _each(pool: ThreadPoolExecutor, function: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`function` of every item on the pool (each in a copy of this request's context, so its log lines carry
    the request id). Once one call fails, those not started yet are skipped: the request fails anyway, and a
    hung S3 must not hold it for each of them. The first failure in item order is raised when the running calls
    have finished, and what the others returned is closed first if it can be."""
    failed = threading.Event()

    def call(item: T) -> R | None:
        if failed.is_set():
            return None
        try:
            return function(item)
        except BaseException:
            failed.set()
            raise

    calls = [pool.submit(contextvars.copy_context().run, call, item) for item in items]
    futures.wait(calls)
    failure = next((error for call in calls if (error := call.exception()) is not None), None)
    if failure is None:
        return [call.result() for call in calls]
    for call in calls:
        if call.exception() is None and hasattr(call.result(), "close"):
            call.result().close()
    raise failure


@transaction.atomic
def _create_image_rows(
    *,
    house: House,
    content_type: ContentType,
    images: list[tuple[SanitizedImage, str]],
    caption: str,
    is_main: bool,
    order: int | None,
) -> list[PropertyImage]:
    _lock_house(content_type=content_type, object_id=house.pk)
    if order is None:
        siblings = PropertyImage.objects.filter(content_type=content_type, object_id=house.pk)
        highest = siblings.aggregate(highest=Max("order"))["highest"]
        order = 0 if highest is None else highest + 1
    if is_main:
        _unset_main_images(content_type_id=content_type.pk, object_id=house.pk)
    variants_status = VariantsStatus.PENDING if settings.PROPERTY_IMAGE_VARIANTS else VariantsStatus.READY
    created = []
    for position, (image, key) in enumerate(images):
        row = PropertyImage(
            content_type=content_type,
            object_id=house.pk,
            caption=caption,
            is_main=is_main and position == 0,
            order=min(order + position, MAX_ORDER),  # the last places share the largest order the database holds
            original_filename=image.original_filename,
            width=image.width,
            height=image.height,
            size=image.size,
            mime_type=image.mime_type,
            variants_status=variants_status,
            variants_requested_at=timezone.now(),
        )
        row.image.name = key
        row.save()
        created.append(row)
    if variants_status == VariantsStatus.PENDING:
        image_variants_enqueue_on_commit(created)
    return created


def _lock_house(*, content_type: ContentType, object_id: int) -> None:
    """Serialise writers of one house's images (a row lock on PostgreSQL; SQLite locks the whole database).

    PropertyNotFound if the house was deleted since the request found it: no image may point at it.
    """
    house_model = content_type.model_class()
    if house_model.objects.select_for_update().filter(pk=object_id).values_list("pk", flat=True).first() is None:
        raise PropertyNotFound


def _unset_main_images(*, content_type_id: int, object_id: int, keep_pk: int | None = None) -> None:
    PropertyImage.objects.filter(content_type_id=content_type_id, object_id=object_id, is_main=True).exclude(
        pk=keep_pk
    ).update(is_main=False)


def property_image_update(
    *, image: PropertyImage, caption: str | None = None, order: int | None = None, is_main: bool | None = None
) -> PropertyImage:
    """Change caption, order or main flag; making an image main unsets its property's other main image.

    ImageNotFound if the image (or its house) was deleted meanwhile: saving would write it back.
    """
    with transaction.atomic():
        try:
            _lock_house(content_type=ContentType.objects.get_for_id(image.content_type_id), object_id=image.object_id)
        except PropertyNotFound:
            raise ImageNotFound from None
        if not PropertyImage.objects.select_for_update().filter(pk=image.pk).exists():
            raise ImageNotFound
        changes = {
            field: value
            for field, value in (("caption", caption), ("order", order), ("is_main", is_main))
            if value is not None
        }
        if changes.get("is_main"):
            _unset_main_images(content_type_id=image.content_type_id, object_id=image.object_id, keep_pk=image.pk)
        for field, value in changes.items():
            setattr(image, field, value)
        # Only these fields (and the time of the change): the rest of the row (its variants, which a rebuild may
        # have replaced since this request read it) is not this request's to write back.
        if changes:
            image.save(update_fields=[*changes, "updated_at"])
    return image


def property_image_set_main(*, image: PropertyImage) -> PropertyImage:
    """Make `image` the only main image of its property, safe under concurrent requests."""
    return property_image_update(image=image, is_main=True)


def property_image_delete_objects_on_commit(*, image: PropertyImage) -> None:
    """Delete the image's objects (original and variants) once the transaction commits (never on rollback).

    The variants the settings ask for are deleted too, whether the row knew of them or not: a variants task
    may have stored them after this row was read.
    """
    keys = sorted({*image.object_keys, *configured_variant_keys(image.image.name).values()})
    if keys:
        transaction.on_commit(partial(objects_delete_later, keys), robust=True)


# Direct uploads: the client posts the file straight to S3, under a staging key only it was given.
STAGING_PREFIX = "uploads/"
DIRECT_UPLOAD_EXPIRES_IN = 600  # 10 minutes to post the file


class UploadKeyRejected(Exception):
    """A staging key that was not issued to this user."""


class UploadNotFound(Exception):
    """Nothing was posted under the staging key (or it was already used)."""


class UploadInProgress(Exception):
    """Another request is completing the same staging key right now."""


class UploadUsedElsewhere(Exception):
    """The staging key was already completed, for another property."""


# A claim without an image this old belongs to a request that died (completing takes seconds): another may
# take it over.
STAGED_UPLOAD_CLAIM_TIMEOUT = timedelta(minutes=5)
# How long a completed upload's key keeps answering with its image (for clients that retry after a lost answer).
COMPLETED_UPLOAD_MEMORY = timedelta(days=1)


@contextmanager
def staged_upload_claimed(key: str) -> Iterator[StagedUploadClaim]:
    """Claim `key` for the block, which sets the claim's image once it has stored one.

    UploadInProgress if another request holds the claim. If the block fails, the claim goes and the key may
    be completed again.
    """
    now = timezone.now()
    StagedUploadClaim.objects.filter(claimed_at__lt=now - COMPLETED_UPLOAD_MEMORY).delete()
    StagedUploadClaim.objects.filter(key=key, image=None, claimed_at__lt=now - STAGED_UPLOAD_CLAIM_TIMEOUT).delete()
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


def direct_upload_issue(*, user_id: int) -> dict:
    """A presigned POST for one new staging key under `uploads/{user_id}/`."""
    key = f"{STAGING_PREFIX}{user_id}/{uuid.uuid4().hex}"
    max_size = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE
    post = S3ImageService().presigned_post(key=key, max_size=max_size, expires_in=DIRECT_UPLOAD_EXPIRES_IN)
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
    caption: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Check and store the file posted under `key` exactly like a multipart upload, then drop the staging object.

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
    if completed is not None:
        image = completed.image
        image_house = (ContentType.objects.get_for_id(image.content_type_id).model_class(), image.object_id)
        if image_house != (type(house), house.pk):
            raise UploadUsedElsewhere
        return [image]
    with staged_upload_claimed(key) as claim:
        images = _direct_upload_store(
            key=key, house=house, filename=filename, caption=caption, is_main=is_main, order=order
        )
        claim.image = images[0]
        claim.save(update_fields=["image"])
    return images


def _direct_upload_store(
    *, key: str, house: House, filename: str, caption: str, is_main: bool, order: int | None
) -> list[PropertyImage]:
    display_name = filename or "image"
    try:
        content = S3ImageService().download(key=key, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE)
    except FileNotFoundError as missing:
        raise UploadNotFound from missing
    except ValueError as too_large:
        objects_delete_later([key])
        raise ImageRejected(display_name, "the file is larger than the upload limit") from too_large
    try:
        images = property_images_store(
            house=house, files=[File(content, name=display_name)], caption=caption, is_main=is_main, order=order
        )
    except S3StorageError:
        raise  # S3 failed: keep the staging object so that the client can complete again
    except BaseException:
        objects_delete_later([key])
        raise
    finally:
        content.close()
    objects_delete_later([key])
    return images
