"""Houses and their private images as the API answers them (and a house as clients write it); what else clients
send is validated by input_serializers.py."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .fields import StrictBooleanField, StrictCharField, StrictDecimalField, StrictIntegerField
from .models import MAX_ORDER, VARIANT_KEY_FIELDS, HouseForRent, HouseForSale, ImageCategory, PropertyImage


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

    url = serializers.URLField(allow_null=True, help_text="The copy in WebP (or JPEG, as configured).")
    avif_url = serializers.URLField(allow_null=True, help_text="The copy in AVIF; null when AVIF copies are off.")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    is_original = serializers.BooleanField(help_text="The original stands in: the variants are not made yet.")


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

    # Which variants an image carries: all it offers (PropertyImage.offered_variants), or only these.
    variant_names: list[str] | None = None
    # When its URLs stop working (epoch seconds), if sooner than the storage's expiry: a share link's.
    urls_end_at: int | None = None

    def signed(self, instance: PropertyImage) -> tuple[str | None, dict]:
        """The original's presigned URL, and the variants (`variant_names`) with theirs, all signed in one pass
        (secure_urls): a variant the original stands in for has the original's URLs."""
        offered = instance.offered_variants(self.variant_names)
        copies = [(None, "key"), *((name, field) for name in offered for field in VARIANT_KEY_FIELDS)]
        urls = iter(instance.secure_urls(copies, ends_at=self.urls_end_at))
        original_url = next(urls)
        # VARIANT_KEY_FIELDS: the configured format's copy, then the AVIF one.
        variants = {
            name: {"url": next(urls), "avif_url": next(urls), "width": width, "height": height, "is_original": original}
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


class HouseSerializer(StrictModelSerializer):
    """Fields every house has; the owner is the user who created it."""

    owner = serializers.PrimaryKeyRelatedField(read_only=True)
    owner_username = serializers.CharField(source="owner.get_username", read_only=True)
    images = PropertyImageSerializer(
        many=True, read_only=True, help_text="Every image: in a house's own answer, and in lists with ?include=images."
    )
    main_image = serializers.SerializerMethodField(
        help_text="The main image, else the first (null without images), as a card on an index page draws it."
    )
    image_count = serializers.SerializerMethodField()

    class Meta:
        fields = [
            "id",
            "title",
            "description",
            "address",
            "city",
            "bedrooms",
            "bathrooms",
            "area",
            "owner",
            "owner_username",
            "main_image",
            "image_count",
            "images",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "created_at", "updated_at"]
        # Left out of lists unless asked for (the schema says it may be absent).
        optional_in_response = ["images"]
        # PositiveSmallIntegerField: what every database holds (on SQLite the model would take far more).
        extra_kwargs = {"bedrooms": {"max_value": 32767}, "bathrooms": {"max_value": 32767}}

    def get_fields(self) -> dict:
        fields = super().get_fields()
        if self.context.get("with_images") is False:  # a list without ?include=images
            del fields["images"]
        return fields

    @cached_property
    def cover_serializer(self) -> CoverImageSerializer:
        return CoverImageSerializer(context=self.context)

    @extend_schema_field(CoverImageSerializer(allow_null=True))
    def get_main_image(self, house: HouseForSale | HouseForRent) -> dict | None:
        image = house.cover_image
        return None if image is None else self.cover_serializer.to_representation(image)

    def get_image_count(self, house: HouseForSale | HouseForRent) -> int:
        count = getattr(house, "image_count", None)  # annotated by the views' queryset
        return len(house.images.all()) if count is None else count


class HouseForSaleSerializer(HouseSerializer):
    class Meta(HouseSerializer.Meta):
        model = HouseForSale
        fields = [*HouseSerializer.Meta.fields, "price"]


class HouseForRentSerializer(HouseSerializer):
    class Meta(HouseSerializer.Meta):
        model = HouseForRent
        fields = [*HouseSerializer.Meta.fields, "monthly_rent"]
