"""The lists' paging: the guide's page numbers (`count`, `next`, `previous`, `results`; `?page=N`, `?page_size=` up
to 100), and keyset paging by an opaque cursor (`?paging=cursor`, then the `next` and `previous` links), in the same
shape. Either reads only its page from the list's index, whatever the catalogue's size:

- page N reads its rows' ids from the index (N x page_size entries, from whichever end of the list is nearer: the
  last page of 100,000 houses costs what the first does) and then only the page's rows;
- a cursor page starts from its position in the index: as cheap at the millionth row as at the first, and stable
  while rows are added and deleted (a walk sees no row twice and skips none that existed throughout it);
- `count` is counted once per change of the list (list_counts.py), not on every page.
"""

from __future__ import annotations

import datetime
from collections import OrderedDict
from functools import cached_property

from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from .list_counts import list_count


class IndexedPaginator(Paginator):
    """Django's Paginator, except that it reads a page by its rows' ids (from the nearer end of the list), counts
    through list_count(), and needs no count at all when the first page holds the whole list (it reads one row more
    than the page: a house's photos usually fit one page)."""

    object_list: QuerySet

    def page(self, number):
        if str(number) == "1" and "count" not in self.__dict__:
            rows = list(self.object_list[: self.per_page + 1])
            if len(rows) <= self.per_page:
                self.count = len(rows)  # Paginator.count is a cached_property: this is its value
            return Page(rows[: self.per_page], 1, self)
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        return Page(self.rows(bottom, top), number, self)

    def rows(self, bottom: int, top: int) -> list:
        """Rows bottom..top of the list: their ids read from the index first (a deep OFFSET then skips index
        entries, not rows, and each row's subqueries run for the page alone), from the end when that is nearer."""
        rows = self.object_list
        if bottom == 0:
            return list(rows[:top])
        if bottom > self.count - top:
            ids = rows.reverse().values("pk")[self.count - top : self.count - bottom]
        else:
            ids = rows.values("pk")[bottom:top]
        return list(rows.filter(pk__in=ids))

    @cached_property
    def count(self) -> int:
        return list_count(self.object_list)


class InvalidCursor(ValidationError):
    def __init__(self) -> None:
        super().__init__({"cursor": ["Not a cursor of this list: use the `next` or `previous` link of its answers."]})


class Keyset:
    """A list's position by the values of its ordering (ending in the primary key, so positions are unique), signed
    so that a cursor cannot be made up or altered: an altered one is a 400, never another page."""

    def __init__(self, queryset: QuerySet) -> None:
        ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
        self.descending = ordering[0].startswith("-")
        names = [name.lstrip("-") for name in ordering]
        if names[-1] not in ("id", "pk") or any(name.startswith("-") != self.descending for name in ordering):
            raise ValueError(f"keyset paging needs one direction ending in the primary key, not {ordering}")
        self.fields = [queryset.model._meta.get_field("id" if name == "pk" else name) for name in names]
        self.salt = f"property.pagination.cursor:{queryset.model._meta.label_lower}:{','.join(ordering)}"

    def cursor(self, row, *, forward: bool) -> str:
        values = [getattr(row, field.attname) for field in self.fields]
        encoded = [value.isoformat() if isinstance(value, datetime.datetime) else value for value in values]
        return signing.Signer(salt=self.salt).sign_object([encoded, forward], compress=True)  # no timestamp

    def position(self, cursor: str) -> tuple[list, bool]:
        try:
            values, forward = signing.Signer(salt=self.salt).unsign_object(cursor)
            if len(values) != len(self.fields) or not isinstance(forward, bool):
                raise InvalidCursor
            return [field.to_python(value) for field, value in zip(self.fields, values, strict=True)], forward
        except (signing.BadSignature, ValueError, TypeError, DjangoValidationError) as error:
            raise InvalidCursor from error

    def beyond(self, values: list, *, forward: bool) -> Q:
        """The rows after `values` in the list's order (before them, going backwards): `a <= x AND (a < x OR (a = x
        AND id < y))` for a descending list, whose first term an index range scan starts from."""
        later = "lt" if self.descending == forward else "gt"
        condition = Q(**{f"{self.fields[-1].name}__{later}": values[-1]})
        for field, value in zip(self.fields[-2::-1], values[-2::-1], strict=True):
            condition = Q(**{f"{field.name}__{later}": value}) | (Q(**{field.name: value}) & condition)
        first = self.fields[0].name
        return Q(**{f"{first}__{later}e": values[0]}) & condition


class StandardPagination(PageNumberPagination):
    """DRF's page-number pagination (`count`, `next`, `previous`, `results`) over IndexedPaginator, and keyset
    paging by cursor in the same shape."""

    django_paginator_class = IndexedPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    cursor_query_param = "cursor"
    paging_query_param = "paging"

    def paginate_queryset(self, queryset, request, view=None):
        paging = request.query_params.get(self.paging_query_param)
        cursor = request.query_params.get(self.cursor_query_param)
        if paging not in (None, "cursor", "page"):
            raise ValidationError({self.paging_query_param: ["`cursor` or `page`."]})
        if cursor == "":
            raise ValidationError({self.cursor_query_param: ["A cursor, when the parameter is given."]})
        self.keyset = None
        if cursor is None and paging != "cursor":
            return super().paginate_queryset(queryset, request, view)
        if paging == "page" or self.page_query_param in request.query_params:
            raise ValidationError({self.cursor_query_param: ["Not with page numbers: a cursor's page is its place."]})
        return self.paginate_by_cursor(queryset, request, cursor)

    def paginate_by_cursor(self, queryset: QuerySet, request, cursor: str | None) -> list:
        self.request = request
        self.keyset = keyset = Keyset(queryset)
        size = self.get_page_size(request)
        values, forward = keyset.position(cursor) if cursor else (None, True)
        matching = queryset if values is None else queryset.filter(keyset.beyond(values, forward=forward))
        rows = list((matching if forward else matching.reverse())[: size + 1])
        more = len(rows) > size
        rows = rows[:size] if forward else rows[:size][::-1]
        self.count = list_count(queryset)
        self.next_cursor = keyset.cursor(rows[-1], forward=True) if rows and (more or not forward) else None
        has_previous = values is not None and (forward or more)
        self.previous_cursor = keyset.cursor(rows[0], forward=False) if rows and has_previous else None
        return rows

    def cursor_link(self, cursor: str | None) -> str | None:
        if cursor is None or self.request is None:
            return None
        return replace_query_param(self.request.build_absolute_uri(), self.cursor_query_param, cursor)

    def get_paginated_response(self, data) -> Response:
        if self.keyset is None:
            return super().get_paginated_response(data)
        return Response(
            OrderedDict(
                [
                    ("count", self.count),
                    ("next", self.cursor_link(self.next_cursor)),
                    ("previous", self.cursor_link(self.previous_cursor)),
                    ("results", data),
                ]
            )
        )

    def get_page_size(self, request) -> int:
        """`?page_size=` from 1 to 100: DRF's own quietly falls back to 20 for anything else, which hides the
        client's mistake (and is not what the schema says)."""
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not given.isdecimal() or not 1 <= int(given) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"A whole number from 1 to {self.max_page_size}."]})
        return int(given)

    def get_page_number(self, request, paginator) -> str | int:
        """`?page=N`; given empty, a 400 like every other parameter (DRF's own would answer the first page)."""
        if request.query_params.get(self.page_query_param) == "":
            raise ValidationError({self.page_query_param: ["A whole number from 1, when the parameter is given."]})
        return super().get_page_number(request, paginator)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
            elif parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return [
            *parameters,
            {
                "name": self.paging_query_param,
                "required": False,
                "in": "query",
                "description": "`cursor`: keyset paging, whose `next` and `previous` links carry a `cursor`: flat "
                "at any depth, and stable while rows are added and deleted. `page` (the default): page numbers.",
                "schema": {"type": "string", "enum": ["cursor", "page"]},
            },
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "A position in the list, from the `next` or `previous` link of a cursor page.",
                "schema": {"type": "string", "minLength": 1},
            },
        ]
