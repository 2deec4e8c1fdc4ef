"""The raw SQL's names come from the models, quoted as the database quotes them; what it reads comes back as the
models."""

import pytest
from django.db import connection

from property.models import Change, HouseForSale, PropertyImage
from property.sql import ModelColumns, quoted_column
from property.tests.factories import PropertyImageFactory


def test_a_field_is_named_by_its_column_quoted():
    assert quoted_column(PropertyImage, "order") == connection.ops.quote_name("order")
    assert quoted_column(PropertyImage, "content_type") == connection.ops.quote_name("content_type_id")


def test_pk_is_the_primary_key_column():
    assert quoted_column(Change) == connection.ops.quote_name(Change._meta.pk.column)


def test_a_field_without_a_column_is_refused():
    with pytest.raises(ValueError, match="has no column"):
        quoted_column(HouseForSale, "images")  # a GenericRelation: the photos' rows hold the link


@pytest.mark.django_db
def test_columns_read_back_are_the_model_as_a_queryset_builds_it():
    photo = PropertyImageFactory(category="kitchen")
    columns = ModelColumns(PropertyImage, "photo")
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(PropertyImage._meta.db_table)
        cursor.execute(f"SELECT {columns.select} FROM {table} photo")  # noqa: S608 - names from the model
        (row,) = cursor.fetchall()
    read, expected = columns.instance(row), PropertyImage.objects.get(pk=photo.pk)
    assert [getattr(read, field.attname) for field in PropertyImage._meta.concrete_fields] == [
        getattr(expected, field.attname) for field in PropertyImage._meta.concrete_fields
    ]
    assert columns.instance([None] * len(columns)) is None  # a LEFT JOIN that found no row
