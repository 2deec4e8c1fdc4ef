"""Changing and deleting stored images (caption, order, the one main image, and their objects once deleted), and
deleting a house with them."""

from __future__ import annotations

from collections import Counter
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from backend.exceptions import ApplicationError, DeletedMeanwhile

from ..announcements import ChangeAction, rows_updated
from ..models import House, PropertyImage
from ..sql import quoted_column
from ..tasks import objects_delete_later
from ..variants import configured_variant_keys


class PropertyNotFound(DeletedMeanwhile):
    """The house was deleted while its images were being stored or changed."""


class ImageNotFound(DeletedMeanwhile):
    """The image was deleted while a request was changing it."""


def lock_house(*, content_type: ContentType, object_id: int) -> None:
    """Serialise writers of one house's images (a row lock on PostgreSQL; SQLite locks the whole database).

    PropertyNotFound if the house was deleted since the request found it: no image may point at it.
    """
    house_model = content_type.model_class()
    if house_model is None:
        raise PropertyNotFound
    house = house_model._default_manager.select_for_update().filter(pk=object_id)
    if house.values_list("pk", flat=True).first() is None:
        raise PropertyNotFound


def house_delete(*, house: House) -> None:
    """Delete the house with its photos (their objects once the deletion commits) and its share links, under the
    house's lock: an upload that holds it finishes first and its photos go too; one that waits for it finds no
    house (PropertyNotFound, a 404). Without the lock, Django would collect the photos before the house's row
    waited for the upload, and leave the upload's photos pointing at no house."""
    with transaction.atomic():
        lock_house(content_type=ContentType.objects.get_for_model(house), object_id=house.pk)
        house.delete()


def unset_main_images(*, content_type_id: int, object_id: int, keep_pk: int | None = None) -> None:
    others = PropertyImage.objects.filter(content_type_id=content_type_id, object_id=object_id, is_main=True)
    if keep_pk is not None:
        others = others.exclude(pk=keep_pk)
    others.announcing(ChangeAction.MAIN_CHANGED).update(is_main=False)


# What an image's owner changes (PATCH, the admin); the rest of a row is the upload's and the worker's.
IMAGE_CHANGEABLE_FIELDS = ("caption", "category", "description", "order", "is_main")


def property_image_update(*, image: PropertyImage, **changes) -> PropertyImage:
    """Change the fields given (of IMAGE_CHANGEABLE_FIELDS: a category of None unsets it); making an image main
    unsets its property's other main image.

    ImageNotFound if the image (or its house) was deleted meanwhile: saving would write it back.
    """
    unknown = set(changes) - set(IMAGE_CHANGEABLE_FIELDS)
    if unknown:
        raise TypeError(f"property_image_update() does not change {sorted(unknown)}")
    with transaction.atomic():
        try:
            lock_house(content_type=ContentType.objects.get_for_id(image.content_type_id), object_id=image.object_id)
        except PropertyNotFound:
            raise ImageNotFound from None
        if not PropertyImage.objects.select_for_update().filter(pk=image.pk).exists():
            raise ImageNotFound
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


class ImageOrderRejected(ApplicationError):
    """A new order that does not list each of the house's images exactly once; the message says what is wrong."""


def property_images_reorder(*, house: House, image_ids: list[int]) -> list[PropertyImage]:
    """Give the house's images `order` 0..n-1 in the order of `image_ids`, which must list each of them once: in
    one transaction under the house's lock (like uploads and set_as_main), so that concurrent reorders serialise and
    the last one wins whole. `is_main` is left as it is. The images in their new order.

    ImageOrderRejected (nothing changed) for an id missing, listed twice or not one of the house's.
    """
    content_type = ContentType.objects.get_for_model(house)
    with transaction.atomic():
        lock_house(content_type=content_type, object_id=house.pk)
        house_images = PropertyImage.objects.filter(content_type=content_type, object_id=house.pk)
        images = {image.pk: image for image in house_images}
        problems = order_problems(image_ids, set(images))
        if problems:
            raise ImageOrderRejected(f"ids must list each of this house's {len(images)} images once: {problems}")
        now = timezone.now()
        for position, image_id in enumerate(image_ids):
            images[image_id].order, images[image_id].updated_at = position, now
        image_orders_write(image_ids, updated_at=now)
    return [images[image_id] for image_id in image_ids]


# Ids per UPDATE: three parameters each, well under SQLite's 32766 and PostgreSQL's 65535.
ORDER_BATCH = 1000


def image_orders_write(image_ids: list[int], *, updated_at) -> None:
    """`order` 0, 1, ... to the images `image_ids` in that order, and `updated_at`: one
    `UPDATE ... SET order = CASE id WHEN ... THEN ... END` per ORDER_BATCH ids.

    Written out rather than bulk_update(), whose Case(When(pk=...)) expressions Django resolves one by one, which
    made a reorder of 200 photos several times as slow as showing them (bench/RESULTS.md, section 6).
    """
    quote = connection.ops.quote_name
    table, pk = quote(PropertyImage._meta.db_table), quoted_column(PropertyImage)
    order, updated = quoted_column(PropertyImage, "order"), quoted_column(PropertyImage, "updated_at")
    stamp = connection.ops.adapt_datetimefield_value(updated_at)
    with connection.cursor() as cursor:
        for start in range(0, len(image_ids), ORDER_BATCH):
            batch = image_ids[start : start + ORDER_BATCH]
            whens = " ".join(["WHEN %s THEN %s"] * len(batch))
            listed = ", ".join(["%s"] * len(batch))
            positions = [value for position, image_id in enumerate(batch, start) for value in (image_id, position)]
            cursor.execute(
                f"UPDATE {table} SET {order} = CASE {pk} {whens} END, {updated} = %s WHERE {pk} IN ({listed})",  # noqa: S608 - names from the model, values as parameters
                [*positions, stamp, *batch],
            )
    # Raw SQL: announced here, as update() announces itself.
    rows_updated.send(sender=PropertyImage, pks=image_ids, action=ChangeAction.REORDERED)


def order_problems(image_ids: list[int], house_image_ids: set[int]) -> str:
    """What keeps `image_ids` from being an order of exactly these images, in words; empty when nothing does."""
    listed = Counter(image_ids)
    repeated = sorted(image_id for image_id, times in listed.items() if times > 1)
    foreign = sorted(set(listed) - house_image_ids)
    missing = sorted(house_image_ids - set(listed))
    return "; ".join(
        f"{ids_in_words(ids)} {'is' if len(ids) == 1 else 'are'} {what}"
        for ids, what in ((foreign, "not one of them"), (repeated, "listed more than once"), (missing, "missing"))
        if ids
    )


def ids_in_words(ids: list[int], shown: int = 10) -> str:
    listed = ", ".join(str(image_id) for image_id in ids[:shown])
    return f"{listed} and {len(ids) - shown} more" if len(ids) > shown else listed


def property_image_delete_objects_on_commit(*, image: PropertyImage) -> None:
    """Delete the image's objects (original and variants) once the transaction commits (never on rollback).

    The variants the settings ask for are deleted too, whether the row knew of them or not: a variants task
    may have stored them after this row was read.
    """
    configured = configured_variant_keys(image.original_key).values()
    keys = sorted({*image.object_keys, *(key for variant in configured for key in variant.values())})
    if keys:
        transaction.on_commit(partial(objects_delete_later, keys), robust=True)
