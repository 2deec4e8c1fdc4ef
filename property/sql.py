"""Names for the app's few raw SQL statements, taken from the models."""

from __future__ import annotations

from django.db import connection, models


def quoted_column(model: type[models.Model], field_name: str = "pk") -> str:
    """The quoted column of one of the model's fields ("pk": its primary key) on the default connection."""
    meta = model._meta
    field = meta.pk if field_name == "pk" else meta.get_field(field_name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{meta.label}.{field_name} has no column")
    return connection.ops.quote_name(field.column)
