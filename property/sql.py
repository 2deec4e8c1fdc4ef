"""The app's few raw SQL statements: their names taken from the models, and what they read turned into models."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection, models


def quoted_column(model: type[models.Model], field_name: str = "pk") -> str:
    """The quoted column of one of the model's fields ("pk": its primary key) on the default connection."""
    meta = model._meta
    field = meta.pk if field_name == "pk" else meta.get_field(field_name)
    if not isinstance(field, models.Field) or field.column is None:
        raise ValueError(f"{meta.label}.{field_name} has no column")
    return connection.ops.quote_name(field.column)


class ModelColumns:
    """Some of a model's columns (all its concrete fields unless named) in a raw SELECT, as table `alias`, and the
    values read back from them converted as Django's compiler converts them (SQLCompiler.apply_converters), into
    a model instance (Model.from_db, as a queryset builds it) or a tuple."""

    def __init__(self, model: type[models.Model], alias: str, field_names: list[str] | None = None) -> None:
        meta = model._meta
        named = [meta.get_field(name) for name in field_names] if field_names else meta.concrete_fields
        fields = [field for field in named if isinstance(field, models.Field)]
        quote = connection.ops.quote_name
        self.model = model
        self.select = ", ".join(f"{quote(alias)}.{quoted_column(model, field.name)}" for field in fields)
        self.names = [field.attname for field in fields]
        self.pk_index = self.names.index(meta.pk.attname) if meta.pk.attname in self.names else 0
        self.converters = []
        for index, field in enumerate(fields):
            column = field.get_col(alias)
            converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if converters:
                self.converters.append((index, converters, column))

    def __len__(self) -> int:
        return len(self.names)

    def values(self, row: Sequence) -> list:
        values = list(row)
        for index, converters, column in self.converters:
            value = values[index]
            for converter in converters:
                value = converter(value, column, connection)
            values[index] = value
        return values

    def instance(self, row: Sequence) -> models.Model | None:
        """The model instance of the row's values; None for a LEFT JOIN that found no row (no primary key)."""
        if row[self.pk_index] is None:
            return None
        return self.model.from_db(connection.alias, self.names, self.values(row))
