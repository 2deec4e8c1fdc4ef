"""Serializer fields that take exactly the JSON types the schema states (DRF's own are lenient: they take "5"
for an integer, 5 for a string, "yes" for a boolean)."""

from __future__ import annotations

import re

from django.http import QueryDict
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty


def sent_as_form(field: serializers.Field) -> bool:
    """Whether the request body was a form (where every value is a string), not JSON."""
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


class StrictBooleanField(serializers.BooleanField):
    """JSON's true or false, or `true` / `false` in a form: DRF's own BooleanField also takes 1, 0, "yes", "on"
    and more, which the schema's boolean does not allow."""

    def to_internal_value(self, data) -> bool:
        if isinstance(data, bool):  # JSON's, or DRF's own False for a checkbox a form left out
            return data
        if isinstance(data, str) and sent_as_form(self) and data.lower() in ("true", "false"):
            return data.lower() == "true"
        self.fail("invalid", input=data)


class StrictIntegerField(serializers.IntegerField):
    """A JSON integer, or digits in a form: DRF's own IntegerField also takes "5" and 5.0 in JSON."""

    def to_internal_value(self, data) -> int:
        if sent_as_form(self) or (isinstance(data, int) and not isinstance(data, bool)):
            return super().to_internal_value(data)
        self.fail("invalid")


class StrictCharField(serializers.CharField):
    """A string: DRF's own CharField turns a number into one, which the schema's string does not allow."""

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


DECIMAL_STRING = re.compile(r"-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class StrictDecimalField(serializers.DecimalField):
    """An amount as a string, as the API answers it (`"450000.00"`): not a JSON number, whose binary fraction
    would not be the amount meant."""

    default_error_messages = {"not_a_string": 'Send the amount as a string, e.g. "450000.00".'}

    def run_validation(self, data=empty):
        # DRF would also take "" (as null), surrounding spaces and exponents ("1e3"), none of which the schema's
        # pattern allows.
        if data is not empty and data is not None:
            if not isinstance(data, str):
                self.fail("not_a_string")
            if not DECIMAL_STRING.fullmatch(data):
                self.fail("invalid")
        return super().run_validation(data)


@extend_schema_field({"type": "string", "format": "binary", "minLength": 1})
class PhotoField(serializers.FileField):
    """A photo: an empty file is refused by the upload's own checks, with the file's name."""
