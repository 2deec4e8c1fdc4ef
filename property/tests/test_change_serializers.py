"""The feed's hand-built entry is exactly what DRF's field machinery would produce; its query parameters."""

from decimal import Decimal
from unittest import mock

import pytest
from django.utils import timezone
from rest_framework import serializers

from property.change_serializers import (
    CHANGES_PAGE_SIZE,
    ChangedHouseForRentSerializer,
    ChangedHouseForSaleSerializer,
    ChangeSerializer,
    ChangesQuerySerializer,
)
from property.models import Change
from property.services.change_feed import Position, changed_objects
from property.tests.factories import HouseForRentFactory, HouseForSaleFactory, PropertyImageFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("zone", ["UTC", "Europe/Madrid"])
def test_fast_entry_equals_drfs(zone):
    photo = PropertyImageFactory(content_object=HouseForRentFactory(), category="floor_plan")
    house = HouseForSaleFactory()
    gone = HouseForSaleFactory()
    gone_id = gone.pk
    gone.delete()
    changes = list(Change.objects.filter(object_id__in=[photo.pk, house.pk, gone_id]).entries())  # as the feed reads
    assert {change.action for change in changes} >= {"created", "deleted"}
    context = {"objects": changed_objects(changes)}
    with mock.patch("backend.storage_backends.time.time", return_value=1_790_000_000), timezone.override(zone):
        for change in changes:
            serializer = ChangeSerializer(change, context=context)
            drf = serializers.Serializer.to_representation(serializer, change)
            assert serializer.data == drf
            assert list(serializer.data) == list(drf)
    assert [entry["data"] for entry in ChangeSerializer(changes, many=True, context=context).data].count(None) >= 2


def test_the_query_takes_a_cursor_and_a_page_size():
    query = ChangesQuerySerializer(data={"after": Position(7, 9).cursor, "page_size": "120"})
    assert query.is_valid(), query.errors
    assert query.validated_data == {"after": Position(7, 9), "page_size": 120}
    query = ChangesQuerySerializer(data={})
    assert query.is_valid() and query.validated_data == {"page_size": CHANGES_PAGE_SIZE}


@pytest.mark.parametrize("zone", ["UTC", "America/Bogota"])
def test_fast_house_equals_drfs(zone):
    houses = [
        (ChangedHouseForSaleSerializer, HouseForSaleFactory(area=Decimal("210.5"), price=Decimal("450000"))),
        (ChangedHouseForRentSerializer, HouseForRentFactory(area=None, monthly_rent=Decimal("950.25"), city="")),
    ]
    with timezone.override(zone):
        for serializer_class, house in houses:
            house = type(house).objects.select_related("owner").get(pk=house.pk)  # as the feed reads it
            serializer = serializer_class(house)
            drf = serializers.ModelSerializer.to_representation(serializer, house)
            assert serializer.data == drf
            assert list(serializer.data) == list(drf) == serializer_class.Meta.fields
