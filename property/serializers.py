"""Private images as the API answers them, and what every serializer of the app builds on (houses:
house_serializers.py; what else clients send: input_serializers.py)."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .fields import StrictBooleanField, StrictCharField, StrictDecimalField, StrictIntegerField
from .models import (
    MAX_ORDER,
    VARIANT_COPIES,
    VARIANT_KEY_FIELDS,
    ImageCategory,
    PropertyImage,
)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields take exactly the JSON types the schema states."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: StrictCharField,
        models.TextField: StrictCharField,
        models.DecimalField: StrictDecimalField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.BooleanField: StrictBooleanField,
    }


class ImageVariantSerializer(serializers.Serializer):
    """One size of an image: where its copies are, and its size in pixels."""

    # The schema of a `variants` entry; PropertyImageSerializer.signed builds the entries themselves.

    width = serializers.IntegerField()
    height = serializers.IntegerField()
    is_original = serializers.BooleanField(help_text="The original stands in: the variants are not made yet.")

    def get_fields(self) -> dict[str, serializers.Field]:
        """A URL for each copy (VARIANT_COPIES), then the size."""
        copies = {
            copy.url_field: serializers.URLField(allow_null=True, help_text=copy.description) for copy in VARIANT_COPIES
        }
        return {**copies, **super().get_fields()}


class InCurrentTimezone:
    """For hand-built representations: the current time zone, looked up once per serializer, not once per object
    of a list."""

    @cached_property
    def current_timezone(self):
        return timezone.get_current_timezone()


class PropertyImageSerializer(InCurrentTimezone, StrictModelSerializer):
    """An image with presigned URLs; `image_url` is the deprecated name of `secure_url`."""

    content_type = serializers.CharField(source="property_kind", read_only=True)
    secure_url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(help_text="Deprecated: same presigned URL as secure_url.")
    variants = serializers.SerializerMethodField(
        help_text="Smaller copies for srcset: name -> url (WebP), avif_url (the same size in AVIF, fewer bytes at "
        "equal SSIM: a <picture> source of type image/avif; null when AVIF copies are turned off), width, "
        "height. While `variants_status` is `pending` (or `failed`), each is the original (`is_original`: true, "
        "`url` and `avif_url` both the original's), so every URL loads."
    )
    order = StrictIntegerField(min_value=0, max_value=MAX_ORDER, required=False)
    # Null when unset; "" is not a second way to say so.
    category = serializers.ChoiceField(
        choices=ImageCategory.choices,
        allow_null=True,
        required=False,
        help_text="What the photo shows (RESO's ImageOf); null when unset.",
    )
    modified_at = serializers.DateTimeField(
        source="updated_at",
        read_only=True,
        help_text="When the photo or anything said of it last changed (its caption, category, description, order, "
        "main flag, variants): RESO's MediaModificationTimestamp. The same instant as `updated_at`.",
    )
    thumbhash = serializers.SerializerMethodField(
        help_text="The photo's ThumbHash (https://evanw.github.io/thumbhash/), base64: a placeholder to paint before "
        "the photo arrives, with its aspect ratio. Null for an image stored before placeholders were made, until "
        "`manage.py rebuild_variants` has run."
    )
    color = serializers.SerializerMethodField(
        help_text="The photo's average colour, `#rrggbb`: the plainest placeholder. Null like `thumbhash`."
    )

    class Meta:
        model = PropertyImage
        fields = [
            "id",
            "content_type",
            "object_id",
            "caption",
            "category",
            "description",
            "is_main",
            "order",
            "original_filename",
            "width",
            "height",
            "size",
            "mime_type",
            "thumbhash",
            "color",
            "secure_url",
            "image_url",
            "variants",
            "variants_status",
            "created_at",
            "updated_at",
            "modified_at",
        ]
        read_only_fields = [
            "id",
            "object_id",
            "original_filename",
            "width",
            "height",
            "size",
            "mime_type",
            "variants_status",
            "created_at",
            "updated_at",
        ]

    def to_representation(self, instance: PropertyImage) -> dict:
        """Hand-built: lists serialise up to 100 images per request, and DRF's per-field machinery
        costs several times the signing. test_serializers proves it equal to DRF's own output."""
        presigned_url, variants = self.signed(instance)  # signed once: both fields carry the same URL
        current_timezone = self.current_timezone
        updated_at = iso_datetime(instance.updated_at, current_timezone)
        return {
            "id": instance.pk,
            "content_type": instance.property_kind,
            "object_id": instance.object_id,
            "caption": instance.caption,
            "category": instance.category,
            "description": instance.description,
            "is_main": instance.is_main,
            "order": instance.order,
            "original_filename": instance.original_filename,
            "width": instance.width,
            "height": instance.height,
            "size": instance.size,
            "mime_type": instance.mime_type,
            "thumbhash": instance.thumbhash or None,
            "color": instance.color or None,
            "secure_url": presigned_url,
            "image_url": presigned_url,
            "variants": variants,
            "variants_status": instance.variants_status,
            "created_at": iso_datetime(instance.created_at, current_timezone),
            "updated_at": updated_at,
            "modified_at": updated_at,
        }

    @extend_schema_field({"type": "string", "format": "byte", "maxLength": 64, "nullable": True})
    def get_thumbhash(self, instance: PropertyImage) -> str | None:
        return instance.thumbhash or None

    @extend_schema_field({"type": "string", "pattern": "^#[0-9a-f]{6}$", "nullable": True})
    def get_color(self, instance: PropertyImage) -> str | None:
        return instance.color or None

    @extend_schema_field(OpenApiTypes.URI)
    def get_secure_url(self, instance: PropertyImage) -> str | None:
        return instance.get_secure_url()

    @extend_schema_field(OpenApiTypes.URI)
    def get_image_url(self, instance: PropertyImage) -> str | None:
        return instance.get_secure_url()

    @extend_schema_field(serializers.DictField(child=ImageVariantSerializer()))
    def get_variants(self, instance: PropertyImage) -> dict:
        return self.signed(instance)[1]

    @property
    def variant_names(self) -> list[str] | None:
        """Which variants an image carries: all it offers (PropertyImage.offered_variants), or only these."""
        return None

    @property
    def urls_end_at(self) -> int | None:
        """When its URLs stop working (epoch seconds), if sooner than the storage's expiry: a share link's."""
        return None

    def signed(self, instance: PropertyImage) -> tuple[str | None, dict]:
        """The original's presigned URL, and the variants (`variant_names`) with theirs, all signed in one pass
        (secure_urls): a variant the original stands in for has the original's URLs."""
        offered = instance.offered_variants(self.variant_names)
        copies = [(None, "key"), *((name, field) for name in offered for field in VARIANT_KEY_FIELDS)]
        urls = iter(instance.secure_urls(copies, ends_at=self.urls_end_at))
        original_url = next(urls)
        variants = {
            name: {
                **{copy.url_field: next(urls) for copy in VARIANT_COPIES},  # in the order `copies` has them
                "width": width,
                "height": height,
                "is_original": original,
            }
            for name, (width, height, original) in offered.items()
        }
        return original_url, variants


# What a cover image leaves out: where the image belongs (the house is around it), its bytes, its history, and the
# deprecated name of secure_url.
NOT_ON_A_CARD = {
    "content_type",
    "object_id",
    "size",
    "mime_type",
    "image_url",
    "created_at",
    "updated_at",
    "modified_at",
}


class CoverImageSerializer(PropertyImageSerializer):
    """A house's cover image, as a card on an index page draws it: its placeholder, the original's URL and the two
    sizes a card needs (PROPERTY_IMAGE_COVER_VARIANTS). Every field of every image is in the house's `images`."""

    variants = serializers.SerializerMethodField(
        help_text="The sizes a card needs (`thumbnail` and `medium`; `large` is in the house's `images`), each as in "
        "an image's `variants`: url (WebP), avif_url, width, height, is_original."
    )

    class Meta(PropertyImageSerializer.Meta):
        fields = [name for name in PropertyImageSerializer.Meta.fields if name not in NOT_ON_A_CARD]

    @property
    def variant_names(self) -> list[str]:
        return settings.PROPERTY_IMAGE_COVER_VARIANTS

    def to_representation(self, instance: PropertyImage) -> dict:
        image = super().to_representation(instance)  # signs only variant_names
        return {name: image[name] for name in self.Meta.fields}


def iso_datetime(value, current_timezone) -> str | None:
    """What DRF's DateTimeField renders: ISO 8601 in the current time zone, `Z` for UTC."""
    if value is None:
        return None
    rendered = value.astimezone(current_timezone).isoformat()
    return rendered[:-6] + "Z" if rendered.endswith("+00:00") else rendered
