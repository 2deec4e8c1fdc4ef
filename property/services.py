"""Side effects on property images: storing, deleting and choosing the main one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import IO

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Max

from backend.storage_backends import S3ImageService, S3StorageError

from .images import SanitizedImage, sanitize_image
from .models import House, PropertyImage, property_image_key

logger = logging.getLogger(__name__)


class NoImagesProvided(Exception):
    """An upload request without any file."""


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
    """Check and re-encode each file in turn, upload them concurrently, then create their rows in one transaction.

    Files are decoded one at a time while the ones before them upload, so memory does not grow
    with the number of files. One bad file rejects the whole request (ImageRejected); if S3 or
    the database fails midway, every object this call uploaded is deleted again, so no row
    exists without its object and no object without its row.
    With `is_main`, the first file becomes the property's only main image.
    """
    if not files:
        raise NoImagesProvided
    if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:
        raise TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES)
    content_type = ContentType.objects.get_for_model(house)
    s3 = S3ImageService()
    pending: list[tuple[SanitizedImage, str, Future]] = []
    try:
        for upload in files:
            image = sanitize_image(upload, filename=getattr(upload, "name", None))
            key = property_image_key(model_name=content_type.model, property_id=house.pk, extension=image.extension)
            pending.append((image, key, upload_executor().submit(s3.upload, key=key, content=image.as_file())))
        for _image, _key, upload_done in pending:
            upload_done.result()
        return _create_image_rows(
            house=house,
            content_type=content_type,
            images=[(image, key) for image, key, _upload_done in pending],
            caption=caption,
            is_main=is_main,
            order=order,
        )
    except BaseException:
        # Let uploads in flight finish first, or they would land after the clean-up.
        wait([upload_done for _image, _key, upload_done in pending])
        _delete_objects_quietly(s3, [key for _image, key, _upload_done in pending])
        raise
    finally:
        wait([upload_done for _image, _key, upload_done in pending])
        for image, _key, _upload_done in pending:
            image.close()


_upload_executor: ThreadPoolExecutor | None = None
_upload_executor_lock = threading.Lock()


def upload_executor() -> ThreadPoolExecutor:
    """Threads shared by all requests of this process: each keeps its own S3 connection alive between uploads."""
    global _upload_executor
    with _upload_executor_lock:
        if _upload_executor is None:
            _upload_executor = ThreadPoolExecutor(
                max_workers=settings.S3_UPLOAD_CONCURRENCY, thread_name_prefix="s3-upload"
            )
        return _upload_executor


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
    created = []
    for position, (image, key) in enumerate(images):
        row = PropertyImage(
            content_type=content_type,
            object_id=house.pk,
            caption=caption,
            is_main=is_main and position == 0,
            order=order + position,
            original_filename=image.original_filename,
            width=image.width,
            height=image.height,
            size=image.size,
            mime_type=image.mime_type,
        )
        row.image.name = key
        row.save()
        created.append(row)
    return created


def _lock_house(*, content_type: ContentType, object_id: int) -> None:
    """Serialise writers of one house's images (a row lock on PostgreSQL; SQLite locks the whole database)."""
    house_model = content_type.model_class()
    house_model.objects.select_for_update().filter(pk=object_id).values_list("pk", flat=True).first()


def _unset_main_images(*, content_type_id: int, object_id: int, keep_pk: int | None = None) -> None:
    PropertyImage.objects.filter(content_type_id=content_type_id, object_id=object_id, is_main=True).exclude(
        pk=keep_pk
    ).update(is_main=False)


def _delete_objects_quietly(s3: S3ImageService, keys: list[str]) -> None:
    for key in keys:
        try:
            s3.delete(key=key)
        except S3StorageError:
            logger.error("Orphaned S3 object left behind key=%s", key)


def property_image_update(
    *, image: PropertyImage, caption: str | None = None, order: int | None = None, is_main: bool | None = None
) -> PropertyImage:
    """Change caption, order or main flag; making an image main unsets its property's other main image."""
    with transaction.atomic():
        _lock_house(content_type=ContentType.objects.get_for_id(image.content_type_id), object_id=image.object_id)
        if caption is not None:
            image.caption = caption
        if order is not None:
            image.order = order
        if is_main is not None:
            if is_main:
                _unset_main_images(content_type_id=image.content_type_id, object_id=image.object_id, keep_pk=image.pk)
            image.is_main = is_main
        image.save()
    return image


def property_image_set_main(*, image: PropertyImage) -> PropertyImage:
    """Make `image` the only main image of its property, safe under concurrent requests."""
    return property_image_update(image=image, is_main=True)


def property_image_delete_object_on_commit(*, key: str) -> None:
    """Delete the object once the surrounding transaction commits (never for a rolled-back delete)."""
    if key:
        transaction.on_commit(lambda: _delete_objects_quietly(S3ImageService(), [key]))
