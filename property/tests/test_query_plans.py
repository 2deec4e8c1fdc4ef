"""Every list reads its page from an index (models.py's indexes, as the views and pagination.py query them): the
database's own plan for each query a list makes, on PostgreSQL and SQLite, has no scan of a whole table and no sort
of more than the page's rows. A missing or unusable index fails here, whatever the catalogue's size.

PostgreSQL is told not to scan tables sequentially (enable_seqscan=off) so that the plan shows which index serves a
query even on a test's small catalogue: one no index serves is still a Seq Scan, or a sort under the LIMIT. A sort
inside a subquery run per house (its cover photo) reads that house's photos only, and is allowed."""

import json

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext

from bench.catalogue import catalogue_grow
from property.models import HouseForSale, PropertyImage

pytestmark = pytest.mark.django_db

HOUSES = 120


@pytest.fixture
def catalogue(owner):
    house = HouseForSale.objects.create(title="Seed", address="1 Seed St", price=1, owner=owner, city="Madrid")
    seed = PropertyImage.objects.create(
        content_type=ContentType.objects.get_for_model(HouseForSale), object_id=house.pk, image="k/seed.jpg"
    )
    catalogue_grow(seed=seed, owner_id=owner.pk, houses=HOUSES, photos=3)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    return house


def list_paths(owner, house) -> list[str]:
    cursor_page = "/api/houses-for-sale/?paging=cursor&page_size=5"
    return [
        "/api/houses-for-sale/",
        "/api/houses-for-sale/?page=2",  # its ids from the start of the index
        f"/api/houses-for-sale/?page={HOUSES // 20}",  # from the end
        "/api/houses-for-sale/?city=madrid",
        f"/api/houses-for-sale/?owner={owner.pk}",
        "/api/houses-for-sale/?bedrooms=3",
        "/api/houses-for-sale/?min_price=300000&max_price=400000&bedrooms=3",
        "/api/houses-for-rent/?min_rent=500&max_rent=900",
        cursor_page,
        "next of " + cursor_page,
        "/api/property-images/",
        "next of /api/property-images/?paging=cursor&page_size=5",
        f"/api/property-images/?content_type=house_for_sale&object_id={house.pk}",
        "/api/property-images/?is_main=true",
    ]


def queries_of(client, path: str) -> list[str]:
    if path.startswith("next of "):
        path = client.get(path.removeprefix("next of ")).json()["next"]
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, response.content
    return [query["sql"] for query in captured if query["sql"].startswith("SELECT") and "property_" in query["sql"]]


def postgresql_faults(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        (plan,) = cursor.fetchone()[0]
    faults = []

    def visit(node: dict, parent: dict | None, per_house: bool) -> None:
        per_house = per_house or node.get("Parent Relationship") in ("SubPlan", "InitPlan")
        relation = node.get("Relation Name", "")
        if node["Node Type"] == "Seq Scan" and relation.startswith("property_"):
            faults.append(f"Seq Scan on {relation}")
        if node["Node Type"] == "Sort" and parent and parent["Node Type"] == "Limit" and not per_house:
            faults.append(f"sort under the LIMIT by {node.get('Sort Key')}")
        for child in node.get("Plans", []):
            visit(child, node, per_house)

    visit(plan["Plan"], None, False)
    return faults


def sqlite_faults(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        steps = [(node, parent, detail) for node, parent, _, detail in cursor.fetchall()]
    faults = [detail for _, _, detail in steps if detail.startswith("SCAN property_") and "INDEX" not in detail]
    for _, parent, detail in steps:
        if detail.startswith("USE TEMP B-TREE FOR ORDER BY"):
            # A sort of rows found by id or by house (SEARCH) is a sort of a page; of a walk (SCAN), of a table.
            level = [other for _, other_parent, other in steps if other_parent == parent]
            if any(other.startswith("SCAN property_") for other in level):
                faults.append(f"{detail} over {level}")
    return faults


def test_every_list_reads_its_page_from_an_index(owner, owner_client, catalogue):
    faults_of = postgresql_faults if connection.vendor == "postgresql" else sqlite_faults
    found = {}
    for path in list_paths(owner, catalogue):
        for sql in queries_of(owner_client, path):
            if faults := faults_of(sql):
                found[f"{path}: {sql[:200]}"] = faults
    assert not found, json.dumps(found, indent=1)
