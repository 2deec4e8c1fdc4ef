"""A house's photos as one ZIP: the stored originals in the gallery's order, read from S3 while the ZIP is sent."""

from __future__ import annotations

from pathlib import PurePosixPath

from django.utils.text import slugify
from zipstream import ZIP_STORED, ZipStream

from backend.s3 import S3ImageService

from ..models import House, PropertyImage

# The longest part of a photo's name in the ZIP taken from its caption.
NAME_FROM_CAPTION_MAX_LENGTH = 60


def house_photos_zip(*, house: House) -> ZipStream:
    """The ZIP of `house`'s photos, each named `01-caption.jpg` (gallery order, then its caption, or `photo`).

    Nothing is read until the ZIP is: each photo's object is opened when the ZIP reaches it and sent a chunk at a
    time, so memory stays a chunk whatever the total. Stored, not compressed (photos do not shrink), so its size is
    known before the first byte (`len()`: a Content-Length).
    """
    images = list(house.images.order_by("order", "id").only("image", "caption", "size", "order"))
    photos = ZipStream(compress_type=ZIP_STORED, sized=True)
    digits = max(2, len(str(len(images))))
    s3 = S3ImageService()
    for number, image in enumerate(images, start=1):
        photos.add(s3.object_chunks(key=image.original_key), photo_name(image, number, digits), size=image.size)
    return photos


def photo_name(image: PropertyImage, number: int, digits: int) -> str:
    stem = slugify(image.caption)[:NAME_FROM_CAPTION_MAX_LENGTH].strip("-") or "photo"
    return f"{number:0{digits}d}-{stem}{PurePosixPath(image.original_key).suffix or '.jpg'}"


def zip_name(house: House) -> str:
    """The ZIP's download name: the house's title, else its kind and id."""
    return f"{slugify(house.title)[:NAME_FROM_CAPTION_MAX_LENGTH].strip('-') or f'house-{house.pk}'}-photos.zip"
