"""What clients send besides a house: the form fields of uploads, the house an upload is for, a direct upload's
staging key, a new order of photos, and query parameters. Each refuses what its schema does not allow, with a 400."""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from .fields import PhotoField, StrictBooleanField, StrictCharField, StrictIntegerField
from .models import DESCRIPTION_MAX_LENGTH, HOUSE_MODELS, MAX_ORDER, ImageCategory

PROPERTY_KIND_CHOICES = list(HOUSE_MODELS)


class ImageUploadOptionsSerializer(serializers.Serializer):
    """The form fields that come with uploaded files (`images` are read from request.FILES)."""

    caption = StrictCharField(max_length=255, required=False, allow_blank=True, default="")
    # Left out, unset (multipart has no null: the schema offers none).
    category = serializers.ChoiceField(
        choices=ImageCategory.choices, required=False, default=None, help_text="What the photo shows."
    )
    description = StrictCharField(
        max_length=DESCRIPTION_MAX_LENGTH, required=False, allow_blank=True, default="", help_text="Long alt text."
    )
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
            name: [
                field.error_messages.get("given_empty")
                or (field.error_messages.get("invalid_choice") or field.error_messages["invalid"]).format(input="")
            ]
            for name, field in self.fields.items()
            if data.get(name) == ""
        }
        if given_empty:
            raise serializers.ValidationError(given_empty)
        return super().to_internal_value(data)


class ExpirationSerializer(QueryParametersSerializer):
    """`?expiration=N`: seconds a presigned URL stays valid, 1 to PRESIGNED_URL_MAX_EXPIRATION (the SigV4 maximum, 7
    days); `?variant=`."""

    # Validated here and, from these same fields, stated in the schema (the views' extend_schema(parameters=...)).
    variant = serializers.ChoiceField(
        choices=list(settings.PROPERTY_IMAGE_VARIANT_WIDTHS),
        required=False,
        help_text="A smaller copy instead of the original.",
    )

    expiration = serializers.IntegerField(
        min_value=1,
        max_value=settings.PRESIGNED_URL_MAX_EXPIRATION,
        required=False,
        default=lambda: settings.AWS_QUERYSTRING_EXPIRE,
        error_messages={"invalid": EXPIRATION_ERROR},
        help_text=f"Seconds the URL stays valid (1 to {settings.PRESIGNED_URL_MAX_EXPIRATION}, default "
        f"{settings.AWS_QUERYSTRING_EXPIRE}: AWS_QUERYSTRING_EXPIRE).",
    )


class HouseListQuerySerializer(QueryParametersSerializer):
    """What each house of a list carries beyond its main_image."""

    include = serializers.ChoiceField(
        choices=["images"],
        required=False,
        help_text="`images`: every image of each house, not only its main_image.",
        error_messages={  # as when a filter read it
            "invalid_choice": "Select a valid choice. {input} is not one of the available choices.",
            "given_empty": "A value is required when the parameter is given.",
        },
    )
