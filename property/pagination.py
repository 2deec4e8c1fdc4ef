"""Page-number pagination with a client-chosen page size up to 100, and no COUNT query for a list that fits its first
page."""

from django.core.paginator import Paginator
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination


class FirstPageCountingPaginator(Paginator):
    """Django's Paginator, except that a first page holding the whole list is its own count: it reads one row more
    than the page and, if that row is not there, needs no COUNT query (a house's photos usually fit one page)."""

    def page(self, number):
        if str(number) != "1" or "count" in self.__dict__:
            return super().page(number)
        rows = list(self.object_list[: self.per_page + 1])
        if len(rows) <= self.per_page:
            self.count = len(rows)  # Paginator.count is a cached_property: this is its value
        return self._get_page(rows[: self.per_page], 1, self)


class StandardPagination(PageNumberPagination):
    """DRF's page-number pagination (`count`, `next`, `previous`, `results`)."""

    django_paginator_class = FirstPageCountingPaginator
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

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
        return parameters
