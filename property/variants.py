"""Making an image's size variants from its stored original: the work of property.tasks.make_image_variants."""

from __future__ import annotations

from django.conf import settings
from PIL import Image

from backend.s3 import S3ImageService

from .images import (
    ACCEPTED_FORMATS,
    VARIANT_KEY_FIELDS,
    configured_variant_keys,
    image_placeholder,
    make_variants,
    stored_file,
    variant_entry_keys,
)
from .models import PropertyImage, VariantsStatus


def variants_up_to_date(image: PropertyImage) -> bool:
    """Whether the image has every variant the settings ask for, in exactly their formats and width, and its
    placeholder (which the variants task makes too)."""
    if not image.thumbhash:
        return False
    stored = {
        name: {field: variant[field] for field in VARIANT_KEY_FIELDS if variant.get(field)}
        for name, variant in image.variants.items()
    }
    return all(stored.get(name) == keys for name, keys in configured_variant_keys(image.image.name).items())


def property_image_variants_make(*, s3: S3ImageService, image: PropertyImage) -> None:
    """Make the configured variants of a stored image from its original, store them beside it, point the row
    at them (and mark them ready), and delete the variant objects they replace (another format or width than
    the settings now ask for).

    Running it again is harmless: the keys come from the original's, so a second run writes the same objects.
    If an upload fails or the row is deleted meanwhile (PropertyImage.DoesNotExist), the variant objects this
    call added are deleted again and the row keeps the variants it had. FileNotFoundError if the original is
    gone, S3StorageError if S3 fails.
    """
    original = s3.download(key=image.image.name, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE * 2)
    try:
        # The stored original is already upright and stripped: only its pixels are read here.
        with Image.open(original, formats=ACCEPTED_FORMATS) as decoded:
            decoded.load()
            # Uploads store their placeholder at once; made again here (a few ms beside the variants) so that images
            # stored before there was one get it, and a rebuild remakes it with the variants.
            placeholder = image_placeholder(decoded)
            variants = make_variants(decoded)
    finally:
        original.close()
    download_stem = image.original_filename.rsplit(".", 1)[0] or "image"
    made: dict[str, dict] = {}
    try:
        for variant in variants:
            key = variant.key_beside(image.image.name)
            entry = made.setdefault(variant.name, {"width": variant.width, "height": variant.height})
            entry[variant.key_field] = key
            download_name = f"{download_stem}_{variant.nominal_width}w.{variant.extension}"
            s3.upload(key=key, content=stored_file(variant.content, variant.format, download_name))
        stored = PropertyImage.objects.filter(pk=image.pk).update(
            variants=made,
            variants_status=VariantsStatus.READY,
            thumbhash=placeholder.thumbhash,
            color=placeholder.color,
        )
        if not stored:
            raise PropertyImage.DoesNotExist(f"image {image.pk} was deleted while its variants were made")
    except BaseException:
        # Keep the objects the row (if it still exists) points at; delete the ones this call added.
        current = PropertyImage.objects.filter(pk=image.pk).first()
        still_used = set(current.object_keys) if current is not None else set()
        added = [key for variant in made.values() for key in variant_entry_keys(variant)]
        s3.delete_quietly([key for key in added if key not in still_used])
        raise
    finally:
        for variant in variants:
            variant.content.close()
    kept = {key for variant in made.values() for key in variant_entry_keys(variant)}
    superseded = sorted(set(image.object_keys) - {image.image.name} - kept)
    image.variants, image.variants_status = made, VariantsStatus.READY
    image.thumbhash, image.color = placeholder.thumbhash, placeholder.color
    s3.delete_quietly(superseded)
