"""Uploads: checking, re-encoding and storing photos, and recording them as image rows."""

from __future__ import annotations

import contextvars
import os
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, TypeVar, cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from backend.exceptions import ApplicationError, StorageUnavailable
from backend.s3 import S3ImageService, S3StorageError

from ..images import ImageRejected, SanitizedImage, sanitize_image
from ..models import MAX_ORDER, House, PropertyImage, VariantsStatus, property_image_key
from ..tasks import image_variants_enqueue_on_commit, objects_delete_later
from .image_updates import lock_house, unset_main_images

T = TypeVar("T")
R = TypeVar("R")
IMAGES_NOT_STORED = "Could not store the images: the storage service is unavailable, please retry"


class NoImagesProvided(ApplicationError):
    message = "No images provided"


class TooManyImages(ApplicationError):
    """More files in one request than PROPERTY_IMAGE_MAX_FILES."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"At most {limit} images can be uploaded in one request")


class UploadRejected(ApplicationError):
    """A file that is not an acceptable image (property.images.ImageRejected): 400, naming the file and why."""


def upload_sanitize(upload: IO[bytes]) -> SanitizedImage:
    """Check and re-encode one uploaded file (sanitize_image); UploadRejected if it is not an acceptable image."""
    try:
        return sanitize_image(upload, filename=getattr(upload, "name", None))
    except ImageRejected as rejection:
        raise UploadRejected(rejection.message) from rejection


@dataclass(frozen=True)
class PhotoDetails:
    """What an upload says of all its photos: caption, category and description; whether the first becomes the
    house's main photo; the order the first takes (None: after the house's photos), the others following it."""

    caption: str = ""
    category: str | None = None
    description: str = ""
    is_main: bool = False
    order: int | None = None


def property_images_store(
    *,
    house: House,
    files: Sequence[IO[bytes]],
    caption: str = "",
    category: str | None = None,
    description: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Check and re-encode every file, then store them (sanitized_images_store).

    One bad file rejects the whole request before anything is stored (the first bad one in request order is
    reported: UploadRejected).
    """
    _check_count(files)
    # Decoding and re-encoding is CPU work that Pillow does without the GIL: one file per core at a time
    # (bench/RESULTS.md, section 3, measures what this saves a bulk upload; memory holds at most that many
    # decoded photos).
    with ThreadPoolExecutor(max_workers=min(len(files), os.cpu_count() or 1)) as pool:
        images = _each(pool, upload_sanitize, files)
    try:
        return sanitized_images_store(
            house=house,
            images=images,
            caption=caption,
            category=category,
            description=description,
            is_main=is_main,
            order=order,
        )
    finally:
        for image in images:
            image.close()


def sanitized_images_store(
    *,
    house: House,
    images: Sequence[SanitizedImage],
    caption: str = "",
    category: str | None = None,
    description: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Upload each checked image, then create their rows in one transaction; their size variants are made by a
    background task enqueued when that transaction commits.

    If S3 (StorageUnavailable) or the database fails midway, every object this call uploaded is deleted again,
    so no row exists without its object and no object without its row.
    With `is_main`, the first image becomes the property's only main image.
    """
    _check_count(images)
    content_type = ContentType.objects.get_for_model(house)
    s3 = S3ImageService()
    keys = [
        property_image_key(model_name=content_type.model, property_id=house.pk, extension=image.extension)
        for image in images
    ]
    images_and_keys = list(zip(images, keys, strict=True))
    details = PhotoDetails(caption=caption, category=category, description=description, is_main=is_main, order=order)
    try:
        _objects_store(s3, images_and_keys)
        return _create_image_rows(house=house, content_type=content_type, images=images_and_keys, details=details)
    except S3StorageError as error:
        objects_delete_later(keys, again_after_s3_failed=True)  # those stored, and any a hung S3 may still store
        raise StorageUnavailable(IMAGES_NOT_STORED) from error
    except BaseException:
        objects_delete_later(keys)
        raise


def _objects_store(s3: S3ImageService, images_and_keys: list[tuple[SanitizedImage, str]]) -> None:
    """Upload each image under its key, the uploads overlapping their round trips to S3."""

    def stored(image_and_key: tuple[SanitizedImage, str]) -> str:
        image, key = image_and_key
        return s3.upload(
            key=key, content=image.content, content_type=image.mime_type, download_name=image.original_filename
        )

    with ThreadPoolExecutor(max_workers=min(len(images_and_keys), os.cpu_count() or 1)) as pool:
        _each(pool, stored, images_and_keys)


def _check_count(files: Sequence) -> None:
    if not files:
        raise NoImagesProvided
    if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:
        raise TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES)


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
    failure = next((error for future in calls if (error := future.exception()) is not None), None)
    if failure is None:
        return [cast(R, future.result()) for future in calls]  # none failed, so none was skipped
    for future in calls:
        close = getattr(future.result(), "close", None) if future.exception() is None else None
        if close is not None:
            close()
    raise failure


@transaction.atomic
def _create_image_rows(
    *, house: House, content_type: ContentType, images: list[tuple[SanitizedImage, str]], details: PhotoDetails
) -> list[PropertyImage]:
    lock_house(content_type=content_type, object_id=house.pk)
    order = details.order
    if order is None:  # after the house's images
        highest = PropertyImage.objects.filter(content_type=content_type, object_id=house.pk).aggregate(Max("order"))
        order = 0 if highest["order__max"] is None else highest["order__max"] + 1
    if details.is_main:
        unset_main_images(content_type_id=content_type.pk, object_id=house.pk)
    variants_status = VariantsStatus.PENDING if settings.PROPERTY_IMAGE_VARIANTS else VariantsStatus.READY
    created = []
    for position, (image, key) in enumerate(images):
        row = PropertyImage(
            content_type=content_type,
            object_id=house.pk,
            caption=details.caption,
            category=details.category,
            description=details.description,
            is_main=details.is_main and position == 0,
            order=min(order + position, MAX_ORDER),  # the last places share the largest order the database holds
            original_filename=image.original_filename,
            width=image.width,
            height=image.height,
            size=image.size,
            mime_type=image.mime_type,
            thumbhash=image.placeholder.thumbhash,
            color=image.placeholder.color,
            variants_status=variants_status,
            variants_requested_at=timezone.now(),
        )
        row.image.name = key
        row.save()
        created.append(row)
    if variants_status == VariantsStatus.PENDING:
        image_variants_enqueue_on_commit(created)
    return created
