"""The raw SQL's names come from the models, quoted as the database quotes them."""

import pytest
from django.db import connection

from property.models import Change, HouseForSale, PropertyImage
from property.sql import quoted_column


def test_a_field_is_named_by_its_column_quoted():
    assert quoted_column(PropertyImage, "order") == connection.ops.quote_name("order")
    assert quoted_column(PropertyImage, "content_type") == connection.ops.quote_name("content_type_id")


def test_pk_is_the_primary_key_column():
    assert quoted_column(Change) == connection.ops.quote_name(Change._meta.pk.column)


def test_a_field_without_a_column_is_refused():
    with pytest.raises(ValueError, match="has no column"):
        quoted_column(HouseForSale, "images")  # a GenericRelation: the photos' rows hold the link
