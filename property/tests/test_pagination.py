"""Page-number pagination: count, next, previous and results at every page boundary, and no COUNT query when the
first page holds the whole list."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from property.tests.factories import HouseForSaleFactory

pytestmark = pytest.mark.django_db

PAGE_SIZE = 5


def page(client, number: int | None = None) -> tuple[dict, list[str]]:
    """A page of the house list (its body) and the SQL of its queries, the token's user read beforehand."""
    client.get("/api/houses-for-sale/?page_size=1")
    path = f"/api/houses-for-sale/?page_size={PAGE_SIZE}" + (f"&page={number}" if number else "")
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200
    return response.json(), [query["sql"] for query in captured]


def counts(queries: list[str]) -> int:
    return sum(query.startswith("SELECT COUNT(") for query in queries)


@pytest.mark.parametrize("houses", [0, 1, PAGE_SIZE])
def test_a_list_that_fits_its_first_page_is_counted_from_its_rows(owner, owner_client, houses):
    HouseForSaleFactory.create_batch(houses, owner=owner)
    body, queries = page(owner_client)
    assert (body["count"], body["next"], body["previous"], len(body["results"])) == (houses, None, None, houses)
    assert counts(queries) == 0


def test_a_list_longer_than_its_first_page_is_counted_and_links_the_next_page(owner, owner_client):
    HouseForSaleFactory.create_batch(PAGE_SIZE + 1, owner=owner)
    first, queries = page(owner_client)
    assert (first["count"], first["previous"], len(first["results"])) == (PAGE_SIZE + 1, None, PAGE_SIZE)
    assert first["next"].endswith(f"page=2&page_size={PAGE_SIZE}")
    assert counts(queries) == 1
    second, _ = page(owner_client, 2)
    assert (second["count"], second["next"], len(second["results"])) == (PAGE_SIZE + 1, None, 1)
    assert second["previous"] is not None
    assert {house["id"] for house in first["results"]}.isdisjoint(house["id"] for house in second["results"])


def test_page_one_asked_by_number_is_the_first_page(owner, owner_client):
    HouseForSaleFactory.create_batch(2, owner=owner)
    assert page(owner_client, 1)[0] == page(owner_client)[0]


def test_a_page_past_the_end_is_404(owner, owner_client):
    HouseForSaleFactory.create_batch(2, owner=owner)
    response = owner_client.get(f"/api/houses-for-sale/?page_size={PAGE_SIZE}&page=2")
    assert (response.status_code, response.json()) == (404, {"detail": "Invalid page."})


@pytest.mark.parametrize("query", ["page=", "page=2&page="])
def test_an_empty_page_parameter_is_400_naming_it(owner, owner_client, query):
    HouseForSaleFactory.create_batch(2, owner=owner)
    response = owner_client.get(f"/api/houses-for-sale/?{query}")
    assert (response.status_code, list(response.json())) == (400, ["page"])
