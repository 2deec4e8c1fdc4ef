"""Houses as the API answers them and as clients write them, each with its cover image and its images."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .models import HouseForRent, HouseForSale
from .serializers import CoverImageSerializer, PropertyImageSerializer, StrictModelSerializer


class HouseSerializer(StrictModelSerializer):
    """Fields every house has; the owner is the user who created it."""

    owner: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(read_only=True)
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
