"""Filters for the image and house lists: each refuses what its schema does not allow, with a 400."""

from typing import ClassVar

import django_filters
from django import forms
from django.contrib.contenttypes.models import ContentType
from django.db.models import Value
from django.db.models.functions import Upper
from drf_spectacular.utils import extend_schema_field

from .models import HOUSE_MODELS, HouseForRent, HouseForSale, ImageCategory, PropertyImage

# The largest id or count a filter takes: PostgreSQL's bigint (a larger one would overflow the database's integer).
MAX_BIGINT = 2**63 - 1
# The largest number django-filter's NumberFilter takes.
MAX_AMOUNT = 1e50


class IntegerFilter(django_filters.NumberFilter):
    """A whole number (NumberFilter takes decimals) between `min_value` and `max_value`, stated in the schema."""

    field_class = forms.IntegerField

    def __init__(self, *, min_value: int, max_value: int = MAX_BIGINT, **kwargs) -> None:
        super().__init__(min_value=min_value, max_value=max_value, **kwargs)
        extend_schema_field({"type": "integer", "minimum": min_value, "maximum": max_value})(self)


class AmountFilter(django_filters.NumberFilter):
    """An amount from 0 up to django-filter's own limit (1e50), stated in the schema."""

    def __init__(self, **kwargs) -> None:
        super().__init__(min_value=0, max_value=MAX_AMOUNT, **kwargs)
        extend_schema_field({"type": "number", "minimum": 0, "maximum": MAX_AMOUNT})(self)


class FilterForm(forms.Form):
    """Django's forms read a parameter given empty (`?object_id=`) as one not given, so the list would quietly
    ignore it; only a text filter may be empty: any other answers 400, as its schema says."""

    def clean(self):
        for name, field in self.fields.items():
            if self.data.get(name) == "" and not isinstance(field, forms.CharField):
                self.add_error(name, "A value is required when the parameter is given.")
        return super().clean()


class FilterSet(django_filters.FilterSet):
    """django-filter's FilterSet, whose form class is built once per filter set instead of on every request: the
    fields of these filters depend on their declarations alone (no choices or querysets read per request)."""

    form_classes: ClassVar[dict[type, type[forms.Form]]] = {}

    def get_form_class(self) -> type[forms.Form]:
        form_class = FilterSet.form_classes.get(type(self))
        if form_class is None:
            form_class = FilterSet.form_classes.setdefault(type(self), super().get_form_class())
        return form_class


def string_choices(*values: str) -> dict:
    return {"type": "string", "enum": list(values)}


class PropertyImageFilter(FilterSet):
    """`?content_type=house_for_sale|house_for_rent&object_id=N&is_main=true|false&category=floor_plan`."""

    content_type = extend_schema_field(string_choices(*HOUSE_MODELS))(
        django_filters.ChoiceFilter(choices=[(kind, kind) for kind in HOUSE_MODELS], method="filter_kind")
    )
    object_id = IntegerFilter(min_value=1)
    # A typed choice, not BooleanFilter: that one silently ignores values it cannot read.
    is_main = extend_schema_field(string_choices("true", "false"))(
        django_filters.TypedChoiceFilter(
            choices=[("true", "true"), ("false", "false")], coerce=lambda value: value == "true"
        )
    )

    category = extend_schema_field(string_choices(*ImageCategory.values))(
        django_filters.ChoiceFilter(choices=ImageCategory.choices)
    )

    class Meta:
        model = PropertyImage
        fields = ["content_type", "object_id", "is_main", "category"]
        form = FilterForm

    def filter_kind(self, queryset, name, value):
        return queryset.filter(content_type=ContentType.objects.get_for_model(HOUSE_MODELS[value]))


class HouseFilter(FilterSet):
    """`?city=`, `?owner=` (a user id: one without houses gives an empty list), `?bedrooms=` and, through
    subclasses, a price range. (`?include=images` is not a filter of rows: HouseViewSet.with_images reads it.)"""

    city = extend_schema_field({"type": "string", "pattern": "^[^\\x00]*$"})(
        django_filters.CharFilter(method="filter_city")
    )
    owner = IntegerFilter(field_name="owner_id", min_value=1)
    bedrooms = IntegerFilter(min_value=0, max_value=32767)

    class Meta:
        form = FilterForm

    def filter_city(self, queryset, name, value):
        """The city whatever its case, as UPPER(city) = UPPER(value) on every database: what the houses' city index
        holds (Django's `iexact` is a LIKE on SQLite, which no such index serves)."""
        return queryset.alias(city_upper=Upper("city")).filter(city_upper=Upper(Value(value)))


class HouseForSaleFilter(HouseFilter):
    min_price = AmountFilter(field_name="price", lookup_expr="gte")
    max_price = AmountFilter(field_name="price", lookup_expr="lte")

    class Meta(HouseFilter.Meta):
        model = HouseForSale
        fields = ["city", "owner", "bedrooms"]


class HouseForRentFilter(HouseFilter):
    min_rent = AmountFilter(field_name="monthly_rent", lookup_expr="gte")
    max_rent = AmountFilter(field_name="monthly_rent", lookup_expr="lte")

    class Meta(HouseFilter.Meta):
        model = HouseForRent
        fields = ["city", "owner", "bedrooms"]
