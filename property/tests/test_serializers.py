"""The hand-built image representation is exactly what DRF's field machinery would produce."""

from unittest import mock

import pytest
from django.utils import timezone
from rest_framework import serializers

from property.serializers import CoverImageSerializer, PropertyImageSerializer
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory, PropertyImageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid", "America/Bogota"])
def test_fast_representation_equals_drfs(zone):
    house = HouseForSaleFactory()
    sale_images = [
        PropertyImageFactory(content_object=house, original_filename="ático ☀.jpg", caption="Salón", is_main=True),
        PropertyImageFactory(content_object=house, variants={}, variants_status="pending", category="kitchen"),
    ]
    rent_image = PropertyImageFactory(content_object=HouseForRentFactory(), order=7, thumbhash="", color="")
    # One signing moment for both renderings, so both sign the same URL.
    with mock.patch("backend.storage_backends.time.time", return_value=1_790_000_000), timezone.override(zone):
        for image in [*sale_images, rent_image]:
            serializer = PropertyImageSerializer(image)
            drf = serializers.ModelSerializer.to_representation(serializer, image)
            assert serializer.data == drf
            assert list(serializer.data) == list(drf)


def test_cover_is_the_image_with_the_card_fields_and_sizes_only():
    house = HouseForSaleFactory()
    pending = PropertyImageFactory(content_object=house, variants={}, variants_status="pending")
    ready = PropertyImageFactory(content_object=house)
    with mock.patch("backend.storage_backends.time.time", return_value=1_790_000_000):
        for image in (pending, ready):
            cover = CoverImageSerializer(image)
            assert cover.data == serializers.ModelSerializer.to_representation(cover, image)
            full = PropertyImageSerializer(image).data
            card_sizes = {name: full["variants"][name] for name in ("thumbnail", "medium")}
            card_fields = {name: full[name] for name in CoverImageSerializer.Meta.fields}
            assert cover.data == {**card_fields, "variants": card_sizes}
            assert list(cover.data) == CoverImageSerializer.Meta.fields and "large" in full["variants"]
    assert cover.data["variants"]["medium"]["is_original"] is False and pending.variants_stand_in
