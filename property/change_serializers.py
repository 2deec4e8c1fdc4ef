"""The feed of changes as readers get it (GET /api/changes/): its query, its entries and its pages."""

from __future__ import annotations

import decimal
from decimal import Decimal
from functools import cached_property
from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from .announcements import ChangeAction
from .fields import StrictCharField
from .house_serializers import HouseForRentSerializer, HouseForSaleSerializer
from .input_serializers import PROPERTY_KIND_CHOICES
from .models import ChangedKind
from .serializers import InCurrentTimezone, PropertyImageSerializer, iso_datetime
from .services.change_feed import Position

# The changes a page holds unless asked (`?page_size=`), and the most it may (bench section 14 measures both).
CHANGES_PAGE_SIZE = 50
CHANGES_MAX_PAGE_SIZE = 500


class ChangesQuerySerializer(serializers.Serializer):
    """`?after=` and `?page_size=`."""

    after = StrictCharField(
        required=False,
        min_length=1,
        help_text="A cursor from an earlier answer (its `cursor`): the changes after it. Without one, the answer "
        "holds no changes and its cursor is now: take the snapshot it names, then follow the feed from that cursor.",
    )
    page_size = serializers.IntegerField(
        min_value=1, max_value=CHANGES_MAX_PAGE_SIZE, required=False, default=CHANGES_PAGE_SIZE
    )

    def validate(self, attrs: dict) -> dict:
        if self.initial_data.get("after") == "":  # DRF reads an empty query parameter as one not given
            raise serializers.ValidationError({"after": ["A cursor, when the parameter is given."]})
        return attrs

    def validate_after(self, value: str) -> Position:
        try:
            return Position.of_cursor(value)
        except ValueError:
            raise serializers.ValidationError(
                "Not a cursor of this feed: use the `cursor` of an answer of GET /api/changes/."
            ) from None


# What a house's own answer has beyond its fields, worked out from its photos: a copy works them out from its own
# photos the same way (the main photo, else the first by `order` then `id`; their number).
DERIVED_FROM_PHOTOS = {"images", "main_image", "image_count"}


class ChangedHouseRepresentation(InCurrentTimezone):
    """A house's own fields, hand-built: DRF's per-field machinery (and building the fields of a ModelSerializer on
    every page) cost as much as the rest of a page. test_change_serializers proves it equal to DRF's output."""

    Meta: Any  # the house serializer's, narrowed to the house's own fields (below)

    def to_representation(self, house) -> dict:
        zone = self.current_timezone
        values = {
            "id": house.pk,
            "owner": house.owner_id,
            "owner_username": house.owner.get_username(),
            "created_at": iso_datetime(house.created_at, zone),
            "updated_at": iso_datetime(house.updated_at, zone),
        }
        for name in self.Meta.fields:
            if name not in values:
                value = getattr(house, name)
                values[name] = (
                    amount_string(value, house._meta.get_field(name)) if isinstance(value, Decimal) else value
                )
        return {name: values[name] for name in self.Meta.fields}


def amount_string(value: Decimal, field) -> str:
    """What DRF's DecimalField answers for an amount: rounded to the field's places, as a plain string."""
    context = decimal.Context(prec=field.max_digits, rounding=decimal.ROUND_HALF_UP)
    return f"{value.quantize(Decimal(1).scaleb(-field.decimal_places), context=context):f}"


class ChangedHouseForSaleSerializer(ChangedHouseRepresentation, HouseForSaleSerializer):
    """A house for sale as the feed carries it: its own fields (its photos come as entries of their own)."""

    class Meta(HouseForSaleSerializer.Meta):
        fields = [name for name in HouseForSaleSerializer.Meta.fields if name not in DERIVED_FROM_PHOTOS]


class ChangedHouseForRentSerializer(ChangedHouseRepresentation, HouseForRentSerializer):
    """A house for rent as the feed carries it: its own fields (its photos come as entries of their own)."""

    class Meta(HouseForRentSerializer.Meta):
        fields = [name for name in HouseForRentSerializer.Meta.fields if name not in DERIVED_FROM_PHOTOS]


DATA_SERIALIZERS = {
    ChangedKind.HOUSE_FOR_SALE: ChangedHouseForSaleSerializer,
    ChangedKind.HOUSE_FOR_RENT: ChangedHouseForRentSerializer,
    ChangedKind.IMAGE: PropertyImageSerializer,
}


class ChangeSerializer(InCurrentTimezone, serializers.Serializer):
    """One change to a house or a photo, with the house or photo as it is now."""

    # Each change as Change.objects.entries() reads it; the objects come from the context's `objects`:
    # {(kind, id): the object as it is now} (changed_objects()).

    id = serializers.IntegerField(
        help_text="The change's own id: an entry read again (a page fetched twice) has it too."
    )
    kind = serializers.ChoiceField(choices=ChangedKind.choices, help_text="What changed: a house or a photo.")
    object_id = serializers.IntegerField(help_text="The id of the house or photo, as in its own list.")
    house_kind = serializers.ChoiceField(
        choices=PROPERTY_KIND_CHOICES, help_text="The house the change is of (a photo's house, or the house itself)."
    )
    house_id = serializers.IntegerField()
    action = serializers.ChoiceField(choices=ChangeAction.choices)
    changed_at = serializers.DateTimeField()
    # A field named as Serializer.data is: DRF's metaclass takes declared fields off the class.
    data = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text="The house or photo as it is now, as its list answers it (a house without `images`, `main_image` "
        "and `image_count`, which come from its photos): put it in place of the copy's. Null when it no longer "
        "exists (a tombstone): remove it from the copy."
    )

    def to_representation(self, change) -> dict:
        """Hand-built: a page holds up to 500 entries, and DRF's per-field machinery costs as much as building the
        objects in them. test_change_serializers proves it equal to DRF's own output."""
        return {
            "id": change.id,
            "kind": change.kind,
            "object_id": change.object_id,
            "house_kind": change.house_kind,
            "house_id": change.house_id,
            "action": change.action,
            "changed_at": iso_datetime(change.changed_at, self.current_timezone),
            "data": self.get_data(change),
        }

    @extend_schema_field(
        PolymorphicProxySerializer(
            component_name="ChangedObject",
            serializers=list(DATA_SERIALIZERS.values()),
            resource_type_field_name=None,
            allow_null=True,
        )
    )
    def get_data(self, change) -> dict | None:
        found = self.context["objects"].get((change.kind, change.object_id))
        if found is None:
            return None
        return self.data_serializers[change.kind].to_representation(found)

    @cached_property
    def data_serializers(self) -> dict[str, serializers.Serializer]:
        """One of each, for every entry of the page (a list serialises through one child)."""
        return {kind: serializer(context=self.context) for kind, serializer in DATA_SERIALIZERS.items()}


class ChangesSnapshotSerializer(serializers.Serializer):
    """Where to take the snapshot a reader starts from: each list, walked by cursor to its end."""

    houses_for_sale = serializers.URLField()
    houses_for_rent = serializers.URLField()
    property_images = serializers.URLField()


class ChangesPageSerializer(serializers.Serializer):
    """A page of the feed (the schema of the answer; the view builds it)."""

    results = ChangeSerializer(many=True)
    cursor = serializers.CharField(help_text="Where this page ends: the next call's `after`. Keep it.")
    next = serializers.URLField(help_text="This feed from `cursor` on: call it now when `has_more`, later if not.")
    has_more = serializers.BooleanField(help_text="Whether more changes follow now.")
    snapshot = ChangesSnapshotSerializer(
        required=False,
        help_text="Only without `after`: the lists to walk by cursor (`next` links) for a full copy, after keeping "
        "this `cursor`; then follow the feed from it. A change made during the walk comes again in the feed.",
    )
