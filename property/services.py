"""Side effects on property images: storing, deleting and choosing the main one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import ExitStack
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
    """Validate every file, upload them to S3, then create their rows in one transaction.

    One bad file rejects the whole request before anything is stored (ImageRejected).
    If S3 or the database fails midway, the objects already uploaded are deleted again,
    so no row exists without its object and no object without its row.
    With `is_main`, the first file becomes the property's only main image.
    """
    if not files:
        raise NoImagesProvided
    if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:
        raise TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES)
    with ExitStack() as cleanup:
        sanitized: list[SanitizedImage] = []
        for upload in files:
            image = sanitize_image(upload, filename=getattr(upload, "name", None))
            cleanup.callback(image.close)
            sanitized.append(image)

        content_type = ContentType.objects.get_for_model(house)
        s3 = S3ImageService()
        uploaded_keys: list[str] = []
        try:
            for image in sanitized:
                key = property_image_key(model_name=content_type.model, property_id=house.pk, extension=image.extension)
                uploaded_keys.append(s3.upload(key=key, content=image.as_file()))
            return _create_image_rows(
                house=house,
                content_type=content_type,
                images=list(zip(sanitized, uploaded_keys, strict=False)),
                caption=caption,
                is_main=is_main,
                order=order,
            )
        except BaseException:
            _delete_objects_quietly(s3, uploaded_keys)
            raise


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
