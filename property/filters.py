"""Filters for the image and house lists."""

import django_filters
from django.contrib.contenttypes.models import ContentType

from .models import HOUSE_MODELS, HouseForRent, HouseForSale, PropertyImage


class PropertyImageFilter(django_filters.FilterSet):
    """`?content_type=house_for_sale|house_for_rent&object_id=N`."""

    content_type = django_filters.ChoiceFilter(choices=[(kind, kind) for kind in HOUSE_MODELS], method="filter_kind")
    object_id = django_filters.NumberFilter(min_value=1)
    # A typed choice, not BooleanFilter: that one silently ignores values it cannot read.
    is_main = django_filters.TypedChoiceFilter(
        choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
    )

    class Meta:
        model = PropertyImage
        fields = ["content_type", "object_id", "is_main"]

    def filter_kind(self, queryset, name, value):
        return queryset.filter(content_type=ContentType.objects.get_for_model(HOUSE_MODELS[value]))


class HouseFilter(django_filters.FilterSet):
    """`?city=`, `?owner=` and, through subclasses, a price range."""

    city = django_filters.CharFilter(lookup_expr="iexact")


class HouseForSaleFilter(HouseFilter):
    min_price = django_filters.NumberFilter(field_name="price", lookup_expr="gte")
    max_price = django_filters.NumberFilter(field_name="price", lookup_expr="lte")

    class Meta:
        model = HouseForSale
        fields = ["city", "owner", "bedrooms"]


class HouseForRentFilter(HouseFilter):
    min_rent = django_filters.NumberFilter(field_name="monthly_rent", lookup_expr="gte")
    max_rent = django_filters.NumberFilter(field_name="monthly_rent", lookup_expr="lte")

    class Meta:
        model = HouseForRent
        fields = ["city", "owner", "bedrooms"]
