"""Validation and representation of houses and their private images."""

from __future__ import annotations

from functools import cached_property

from django.conf import settings
from django.db import models
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from .fields import PhotoField, StrictBooleanField, StrictCharField, StrictDecimalField, StrictIntegerField
from .models import HOUSE_MODELS, MAX_ORDER, VARIANT_KEY_FIELDS, HouseForRent, HouseForSale, PropertyImage

PROPERTY_KIND_CHOICES = list(HOUSE_MODELS)


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


class PropertyImageSerializer(StrictModelSerializer):
    """An image with presigned URLs; `image_url` is the deprecated name of `secure_url`."""

    content_type = serializers.CharField(source="property_kind", read_only=True)
    secure_url = serializers.SerializerMethodField()
    image_url = serializers.SerializerMethodField(help_text="Deprecated: same presigned URL as secure_url.")
    variants = serializers.SerializerMethodField(
        help_text="Smaller copies for srcset: name -> url (WebP), avif_url (the same size in AVIF, about 0.65x the "
        "bytes at equal SSIM: a <picture> source of type image/avif; null when AVIF copies are turned off), width, "
        "height. While `variants_status` is `pending` (or `failed`), each is the original (`is_original`: true, "
        "`url` and `avif_url` both the original's), so every URL loads."
    )
    order = StrictIntegerField(min_value=0, max_value=MAX_ORDER, required=False)
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
        return {
            "id": instance.pk,
            "content_type": instance.property_kind,
            "object_id": instance.object_id,
            "caption": instance.caption,
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
            "updated_at": iso_datetime(instance.updated_at, current_timezone),
        }

    @cached_property
    def current_timezone(self):
        """Looked up once per serializer, not once per image of a list."""
        return timezone.get_current_timezone()

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

    def signed(self, instance: PropertyImage) -> tuple[str | None, dict]:
        """The original's presigned URL, and the variants (`variant_names`) with theirs, all signed in one pass
        (secure_urls): a variant the original stands in for has the original's URLs."""
        offered = instance.offered_variants(self.variant_names)
        copies = [(None, "key"), *((name, field) for name in offered for field in VARIANT_KEY_FIELDS)]
        urls = iter(instance.secure_urls(copies))
        original_url = next(urls)
        # VARIANT_KEY_FIELDS: the configured format's copy, then the AVIF one.
        variants = {name: {"url": next(urls), "avif_url": next(urls), **size} for name, size in offered.items()}
        return original_url, variants


class CoverImageSerializer(PropertyImageSerializer):
    """A house's cover image, as a card on an index page draws it: its placeholder, the original's URL and the two
    sizes a card needs (PROPERTY_IMAGE_COVER_VARIANTS). Every field of every image is in the house's `images`."""

    variants = serializers.SerializerMethodField(
        help_text="The sizes a card needs (`thumbnail` and `medium`; `large` is in the house's `images`), each as in "
        "an image's `variants`: url (WebP), avif_url, width, height, is_original."
    )

    class Meta(PropertyImageSerializer.Meta):
        fields = [
            "id",
            "caption",
            "is_main",
            "order",
            "original_filename",
            "width",
            "height",
            "thumbhash",
            "color",
            "secure_url",
            "variants",
            "variants_status",
        ]

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


class ImageUploadOptionsSerializer(serializers.Serializer):
    """The form fields that come with uploaded files (`images` are read from request.FILES)."""

    caption = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    is_main = StrictBooleanField(required=False, default=False)
    order = StrictIntegerField(min_value=0, max_value=MAX_ORDER, required=False)


def photos_field() -> serializers.ListField:
    """The files of a multipart upload, as its schema states them (the views read them from request.FILES)."""
    return serializers.ListField(child=PhotoField(), min_length=1, max_length=settings.PROPERTY_IMAGE_MAX_FILES)


class ImageUploadSerializer(ImageUploadOptionsSerializer):
    """`POST /api/houses-for-sale|rent/{id}/upload_images/`: `images`, and the options that come with them."""

    images = photos_field()


class PropertyTargetSerializer(serializers.Serializer):
    """`content_type` + `object_id` naming an existing house."""

    content_type = serializers.ChoiceField(choices=PROPERTY_KIND_CHOICES)
    object_id = StrictIntegerField(min_value=1)

    def validate(self, attrs: dict) -> dict:
        model = HOUSE_MODELS[attrs["content_type"]]
        house = model.objects.filter(pk=attrs["object_id"]).first()
        if house is None:
            raise NotFound  # like any id in a path that names no house
        attrs["house"] = house
        return attrs


class BulkUploadSerializer(PropertyTargetSerializer, ImageUploadOptionsSerializer):
    """Form fields of `POST /api/property-images/bulk_upload/`."""


class BulkImageUploadSerializer(BulkUploadSerializer):
    """`POST /api/property-images/bulk_upload/`: `images`, the house they are for, and the options."""

    images = photos_field()


class PropertyImageCreateSerializer(BulkUploadSerializer):
    """`POST /api/property-images/`: one file in `image`, for the house named by content_type + object_id."""

    image = PhotoField(allow_empty_file=True)


EXPIRATION_ERROR = (
    f"expiration must be a whole number of seconds between 1 and {settings.PRESIGNED_URL_MAX_EXPIRATION}."
)


class StagedFileSerializer(serializers.Serializer):
    """A photo posted straight to S3: the staging key from upload_url and the file's own name."""

    key = serializers.RegexField(r"^uploads/[0-9]+/[0-9a-f]{32}$", help_text="The `key` upload_url answered.")
    filename = StrictCharField(max_length=255, required=False, allow_blank=True, default="")


class CompleteUploadSerializer(BulkUploadSerializer, StagedFileSerializer):
    """`POST /api/property-images/complete_upload/`: the staging key from upload_url, and where the photo goes."""


class ReorderImagesSerializer(serializers.Serializer):
    """`POST /api/houses-for-sale|rent/{id}/reorder_images/`: the house's image ids, each once, in the new order."""

    ids = serializers.ListField(
        child=StrictIntegerField(min_value=1),
        allow_empty=True,
        help_text="Every image of the house, each once: the first gets `order` 0, the next 1, and so on.",
    )


class QueryParametersSerializer(serializers.Serializer):
    """Query parameters. DRF reads an empty optional value as "not given"; `?expiration=` or `?include=` is a
    mistake, not the default: 400."""

    def to_internal_value(self, data):
        given_empty = {
            name: [(field.error_messages.get("invalid_choice") or field.error_messages["invalid"]).format(input="")]
            for name, field in self.fields.items()
            if data.get(name) == ""
        }
        if given_empty:
            raise serializers.ValidationError(given_empty)
        return super().to_internal_value(data)


class ExpirationSerializer(QueryParametersSerializer):
    """`?expiration=N`: seconds a presigned URL stays valid, 1 to PRESIGNED_URL_MAX_EXPIRATION (the SigV4 maximum, 7
    days); `?variant=`."""

    variant = serializers.ChoiceField(choices=list(settings.PROPERTY_IMAGE_VARIANT_WIDTHS), required=False)

    expiration = serializers.IntegerField(
        min_value=1,
        max_value=settings.PRESIGNED_URL_MAX_EXPIRATION,
        required=False,
        default=lambda: settings.AWS_QUERYSTRING_EXPIRE,
        error_messages={"invalid": EXPIRATION_ERROR},
    )


class HouseListQuerySerializer(QueryParametersSerializer):
    """What each house of a list carries beyond its main_image."""

    include = serializers.ChoiceField(
        choices=["images"], required=False, help_text="`images`: every image of each house, not only its main_image."
    )


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
