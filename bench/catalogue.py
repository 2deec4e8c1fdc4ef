"""A catalogue the size a real agency network has, grown with SQL from one house and one photo already stored.

`catalogue_grow(houses=100_000, photos=10)` clones the seed house (a house for sale) into `houses` houses for sale
and as many for rent, with cities, prices, rents and bedrooms spread as a real catalogue spreads them and creation
times a minute apart, and the seed photo into `photos` photo rows per house (the first one main), all pointing at
the seed's objects: a list signs URLs and never reads S3. Two statements (houses, then their photos) per BATCH
houses, each batch its own transaction, in the database itself (PostgreSQL and SQLite; no parameters: the numbers are
the caller's integers, and `%` is SQL's modulo): 100,000 houses x 10 photos of each kind take about a minute. Run
inside Django (bench/scale.py).
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction

from property.models import House, HouseForRent, HouseForSale, PropertyImage
from property.versions import changed

CITIES = [
    "Madrid", "Barcelona", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Murcia", "Palma", "Bilbao", "Alicante",
    "Córdoba", "Valladolid", "Vigo", "Gijón", "Granada", "Elche", "Oviedo", "Cádiz", "Santander", "Toledo",
]  # fmt: skip


# Houses written in one transaction: a few seconds of the write lock at most (SQLite's other writers, the worker
# among them, wait up to SQLITE_BUSY_TIMEOUT for it).
BATCH = 10_000


def numbers(start: int, count: int) -> str:
    """A common table expression `numbers(n)` of start .. start + count - 1, on PostgreSQL and SQLite."""
    last = start + count - 1
    return f"WITH RECURSIVE numbers(n) AS (SELECT {start} UNION ALL SELECT n + 1 FROM numbers WHERE n < {last})"  # noqa: S608 - integers


def city_of(column: str) -> str:
    cases = " ".join(f"WHEN {number} THEN '{city}'" for number, city in enumerate(CITIES))
    return f"CASE ({column} % {len(CITIES)}) {cases} END"


def minutes_ago(column: str) -> str:
    """A creation time `column` minutes before now, as each database stores a DateTimeField (on SQLite, text in UTC
    as Django writes a time of whole seconds: a cursor compares it as text)."""
    if connection.vendor == "postgresql":
        return f"(date_trunc('second', now()) - ({column} * interval '1 minute'))"
    return f"strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || {column} || ' minutes')"


def id_range(model: type[models.Model]) -> tuple[int, int]:
    """The lowest and the highest id of the model's rows (RuntimeError when it has none)."""
    bounds = model._default_manager.aggregate(low=models.Min("pk"), high=models.Max("pk"))
    if bounds["low"] is None:
        raise RuntimeError(f"no {model._meta.verbose_name} yet: grow the catalogue first")
    return bounds["low"], bounds["high"]


def houses_grow(
    model: type[House], start: int, count: int, total: int, owner_id: int, amount_column: str, amount: str
) -> None:
    """Houses start .. start + count - 1 of `total`, the last one created a minute ago."""
    table = connection.ops.quote_name(model._meta.db_table)
    when = minutes_ago(f"({total} - n)")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{numbers(start, count)}
            INSERT INTO {table} (title, description, address, city, bedrooms, bathrooms, area, owner_id, created_at,
                                 updated_at, {amount_column})
            SELECT 'House ' || n, 'A house of the bench catalogue.', n || ' Bench Street', {city_of("n")},
                   1 + (n * 7) % 6, 1 + n % 3, 60 + (n * 13) % 240, {int(owner_id)}, {when}, {when}, {amount}
            FROM numbers"""  # noqa: S608 - names from the models, numbers from the caller as integers
        )


def photos_grow(model: type[House], seed: PropertyImage, photos: int, after_id: int) -> None:
    """`photos` rows like `seed` for every house of `model` whose id is above `after_id`."""
    images = connection.ops.quote_name(PropertyImage._meta.db_table)
    houses = connection.ops.quote_name(model._meta.db_table)
    kind = ContentType.objects.get_for_model(model).pk
    columns = [
        field.column
        for field in PropertyImage._meta.concrete_fields
        if field.column and field.column not in ("id", "content_type_id", "object_id", "is_main", "order")
    ]
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    seeded = ", ".join(f"seed.{connection.ops.quote_name(column)}" for column in columns)
    order = connection.ops.quote_name("order")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""{numbers(0, photos)}
            INSERT INTO {images} (content_type_id, object_id, is_main, {order}, {quoted})
            SELECT {int(kind)}, house.id, numbers.n = 0, numbers.n, {seeded}
            FROM {houses} house CROSS JOIN numbers CROSS JOIN {images} seed
            WHERE seed.id = {int(seed.pk)} AND house.id > {int(after_id)}
            ORDER BY house.id, numbers.n"""  # noqa: S608 - names from the models, integers
        )


def catalogue_grow(*, seed: PropertyImage, owner_id: int, houses: int, photos: int) -> None:
    """`houses` houses for sale and as many for rent, each with `photos` rows like `seed`, BATCH houses a
    transaction."""
    growths: list[tuple[type[House], str, str]] = [
        (HouseForSale, "price", "50000 + (n * 7919) % 1450000"),
        (HouseForRent, "monthly_rent", "400 + (n * 31) % 3600"),
    ]
    for model, column, amount in growths:
        for start in range(0, houses, BATCH):
            with transaction.atomic():
                last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                houses_grow(model, start, min(BATCH, houses - start), houses, owner_id, column, amount)
                photos_grow(model, seed, photos, last)
                # Rows written with SQL: announced as the app's writes announce themselves.
                changed(model)
                changed(PropertyImage)
    with connection.cursor() as cursor:
        # The planner's statistics, and PostgreSQL's visibility map (outside a transaction), as autovacuum keeps them
        # in a database that grew over years: index-only scans then read no table page.
        vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
