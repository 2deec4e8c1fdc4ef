"""Making an image's size variants from its stored original, in the configured format and in AVIF: the work of
property.tasks.make_image_variants."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from tempfile import SpooledTemporaryFile
from typing import IO

from django.conf import settings
from PIL import Image

from backend.s3 import S3ImageService

from .announcements import ChangeAction
from .images import (
    FORMAT_DETAILS,
    SPOOL_MAX_MEMORY,
    STORED_FORMATS,
    Placeholder,
    image_placeholder,
    true_colour,
)
from .models import (
    VARIANT_KEY_FIELDS,
    PropertyImage,
    VariantsStatus,
    configured_variant_formats,
    variant_entry_keys,
)

VARIANT_QUALITY = 80
# libwebp's fastest method: method 4 (its default) takes far longer for files a little smaller.
WEBP_METHOD = 0
# AVIF beside each WebP variant (PROPERTY_IMAGE_VARIANT_AVIF). On photographs at 1024 px quality 55 gives fewer bytes
# than WebP at quality 80 for a mean SSIM a little higher (bench/RESULTS.md, section 9); speed 9 of libavif's 0-10
# encodes faster than its default 6 for files a little larger.
AVIF_QUALITY = 55
AVIF_SPEED = 9


@dataclass
class ImageVariant:
    """A smaller copy of an upload: `name` (thumbnail, medium, large) at most `nominal_width` pixels wide, in
    `format`; its row entry keeps its key under `key_field` (one of VARIANT_KEY_FIELDS)."""

    name: str
    nominal_width: int
    format: str
    key_field: str
    width: int
    height: int
    content: IO[bytes]

    @property
    def extension(self) -> str:
        return FORMAT_DETAILS[self.format][0]

    def key_beside(self, original_key: str) -> str:
        return variant_key(original_key, nominal_width=self.nominal_width, image_format=self.format)


def variant_key(original_key: str, *, nominal_width: int, image_format: str) -> str:
    """`..._a1b2c3d4.jpg` → `..._a1b2c3d4_320w.webp`."""
    return f"{original_key.rsplit('.', 1)[0]}_{nominal_width}w.{FORMAT_DETAILS[image_format][0]}"


def configured_variant_keys(original_key: str) -> dict[str, dict[str, str]]:
    """The keys of each variant the settings ask for, by name and then by row field (`key`, `avif_key`): what an
    image's variants should be."""
    if not settings.PROPERTY_IMAGE_VARIANTS:
        return {}
    formats = configured_variant_formats()
    return {
        name: {
            field: variant_key(original_key, nominal_width=width, image_format=image_format)
            for field, image_format in formats.items()
        }
        for name, width in settings.PROPERTY_IMAGE_VARIANT_WIDTHS.items()
    }


def make_variants(image: Image.Image) -> list[ImageVariant]:
    """The configured sizes of `image` in each configured format, largest first, each size resized from the one
    before; never upscaled."""
    if not settings.PROPERTY_IMAGE_VARIANTS:
        return []
    formats = configured_variant_formats()
    icc_profile = image.info.get("icc_profile")
    source = true_colour(image)
    variants = []
    for name, nominal_width in sorted(settings.PROPERTY_IMAGE_VARIANT_WIDTHS.items(), key=lambda item: -item[1]):
        if source.width > nominal_width:
            height = max(1, round(source.height * nominal_width / source.width))
            source = source.resize((nominal_width, height), Image.Resampling.BICUBIC, reducing_gap=2.0)
        if source is image:
            source = source.copy()
        source.info = {}  # its own image, but resize(), convert() and copy() carry the source's metadata along
        for key_field, variant_format in formats.items():
            variants.append(
                ImageVariant(
                    name=name,
                    nominal_width=nominal_width,
                    format=variant_format,
                    key_field=key_field,
                    width=source.width,
                    height=source.height,
                    content=_encode_variant(source, variant_format, icc_profile),
                )
            )
    return variants


def _encode_variant(pixels: Image.Image, variant_format: str, icc_profile: bytes | None) -> IO[bytes]:
    if variant_format == "JPEG" and pixels.mode == "RGBA":  # JPEG has no alpha: lay the photo on white
        pixels = Image.alpha_composite(Image.new("RGBA", pixels.size, "white"), pixels).convert("RGB")
    options: dict = {"quality": VARIANT_QUALITY}
    if variant_format == "WEBP":
        options["method"] = WEBP_METHOD
    elif variant_format == "AVIF":
        options.update(quality=AVIF_QUALITY, speed=AVIF_SPEED)
    if icc_profile:
        options["icc_profile"] = icc_profile
    content = SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY)  # noqa: SIM115 - closed with the upload
    pixels.save(content, format=variant_format, **options)
    return content


def variants_up_to_date(image: PropertyImage) -> bool:
    """Whether the image has every variant the settings ask for, in exactly their formats and width, and its
    placeholder (which the variants task makes too)."""
    if not image.thumbhash:
        return False
    stored = {
        name: {field: variant[field] for field in VARIANT_KEY_FIELDS if variant.get(field)}
        for name, variant in image.variants.items()
    }
    return all(stored.get(name) == keys for name, keys in configured_variant_keys(image.original_key).items())


def property_image_variants_make(*, s3: S3ImageService, image: PropertyImage) -> None:
    """Make the configured variants of a stored image from its original, store them beside it, point the row
    at them (and mark them ready), and delete the variant objects they replace (another format or width than
    the settings now ask for).

    Running it again is harmless: the keys come from the original's, so a second run writes the same objects.
    If an upload fails or the row is deleted meanwhile (PropertyImage.DoesNotExist), the variant objects this
    call added are deleted again and the row keeps the variants it had. FileNotFoundError if the original is
    gone, S3StorageError if S3 fails.
    """
    placeholder, variants = _variants_of_stored_original(s3, image)
    made: dict[str, dict] = {}
    try:
        _variants_store(s3, image, variants, made)
        ready = {"variants": made, "variants_status": VariantsStatus.READY, **asdict(placeholder)}  # thumbhash, color
        if not PropertyImage.objects.filter(pk=image.pk).announcing(ChangeAction.VARIANTS_READY).update(**ready):
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
    superseded = sorted(set(image.object_keys) - {image.original_key} - kept)
    for name, value in ready.items():  # the row as stored
        setattr(image, name, value)
    s3.delete_quietly(superseded)


def _variants_of_stored_original(s3: S3ImageService, image: PropertyImage) -> tuple[Placeholder, list[ImageVariant]]:
    """The placeholder and the variants of the image's stored original (already upright and stripped: only its
    pixels are read)."""
    original = s3.download(key=image.original_key, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE * 2)
    try:
        with Image.open(original, formats=STORED_FORMATS) as decoded:
            decoded.load()
            # Uploads store their placeholder at once, made from the photo as sent: it stays what the upload's answer
            # said (the stored original, encoded again, would give a few other bits). Images stored before there
            # was one get it here.
            stored = Placeholder(thumbhash=image.thumbhash, color=image.color) if image.thumbhash else None
            return stored or image_placeholder(decoded), make_variants(decoded)
    finally:
        original.close()


def _variants_store(s3: S3ImageService, image: PropertyImage, variants: list[ImageVariant], made: dict) -> None:
    """Upload each variant beside the original, noting each key in `made` before its upload (so that a failure
    deletes what may have been written)."""
    download_stem = image.original_filename.rsplit(".", 1)[0] or "image"
    for variant in variants:
        key = variant.key_beside(image.original_key)
        entry = made.setdefault(variant.name, {"width": variant.width, "height": variant.height})
        entry[variant.key_field] = key
        download_name = f"{download_stem}_{variant.nominal_width}w.{variant.extension}"
        content_type = FORMAT_DETAILS[variant.format][1]
        s3.upload(key=key, content=variant.content, content_type=content_type, download_name=download_name)
