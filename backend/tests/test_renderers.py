"""The orjson renderer gives what DRF's JSONRenderer gives."""

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from backend.renderers import FastJSONRenderer

SAMPLES = [
    {"count": 2, "next": None, "results": [{"id": 1, "caption": 'Salón ☀ "quoted" \\ / \n', "is_main": True}]},
    ReturnDict({"price": Decimal("450000.00"), "title": "Villa"}, serializer=None),
    ReturnList([{"detail": ErrorDetail("Not found.", code="not_found")}], serializer=None),
    {"error": gettext_lazy("No images provided"), "nested": [[], {}, "", 0, -1, 2**40]},
    {
        "at": datetime(2026, 11, 24, 17, 30, 5, 123456, tzinfo=UTC),
        "day": date(2026, 11, 24),
        "id": UUID("12345678-1234-5678-1234-567812345678"),
        "ratio": 0.1,
    },
    # A list field's errors, keyed by the index of each bad item.
    {"ids": {0: [ErrorDetail("A valid integer is required.", code="invalid")], 3: []}},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_fast_renderer_encodes_the_same_json_as_drf(data):
    fast = FastJSONRenderer().render(data)
    drf = JSONRenderer().render(data)
    assert json.loads(fast) == json.loads(drf)
    assert fast == drf


def test_indented_responses_use_drfs_renderer():
    rendered = FastJSONRenderer().render({"a": 1}, "application/json; indent=2", {})
    assert rendered == b'{\n  "a": 1\n}'
