"""Changing and deleting stored images: caption, order, the one main image, and their objects once deleted."""

from __future__ import annotations

from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from backend.exceptions import DeletedMeanwhile

from ..images import configured_variant_keys
from ..models import PropertyImage
from ..tasks import objects_delete_later


class PropertyNotFound(DeletedMeanwhile):
    """The house was deleted while its images were being stored or changed."""


class ImageNotFound(DeletedMeanwhile):
    """The image was deleted while a request was changing it."""


def lock_house(*, content_type: ContentType, object_id: int) -> None:
    """Serialise writers of one house's images (a row lock on PostgreSQL; SQLite locks the whole database).

    PropertyNotFound if the house was deleted since the request found it: no image may point at it.
    """
    house_model = content_type.model_class()
    if house_model.objects.select_for_update().filter(pk=object_id).values_list("pk", flat=True).first() is None:
        raise PropertyNotFound


def unset_main_images(*, content_type_id: int, object_id: int, keep_pk: int | None = None) -> None:
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
            lock_house(content_type=ContentType.objects.get_for_id(image.content_type_id), object_id=image.object_id)
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
            unset_main_images(content_type_id=image.content_type_id, object_id=image.object_id, keep_pk=image.pk)
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
