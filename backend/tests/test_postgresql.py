"""backend/postgresql: Django's PostgreSQL backend with timestamps read by psycopg's compiled loader gives the
values Django's own loader gives."""

from __future__ import annotations

import datetime

import psycopg
import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.test import override_settings
from psycopg import pq

from backend.postgresql.base import TIMESTAMPTZ_OID, CompiledTzLoader

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's backend"),
]

TIMESTAMPS = [
    "2026-12-07 19:32:34.584845+00",
    "2026-12-07 19:32:34+00",
    "2024-02-29 23:59:59.999999+05:30",
    "1970-01-01 00:00:00-08",
    "0001-01-01 00:00:00+00",
    "9999-12-31 23:59:59.999999+00",
]
VALUES_SQL = "SELECT v::timestamptz FROM unnest(%s::text[]) AS v"


def timestamps_read(*, django_loader: bool) -> list[datetime.datetime]:
    with connection.cursor() as cursor:
        if django_loader:
            register_tzloader(connection.timezone, cursor.cursor)
        cursor.execute(VALUES_SQL, [TIMESTAMPS])
        return [row[0] for row in cursor.fetchall()]


def cursor_loader() -> type:
    with connection.cursor() as cursor:
        return cursor.cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)


def test_the_connections_read_timestamps_with_the_compiled_loader():
    loader = cursor_loader()
    assert issubclass(loader, CompiledTzLoader)
    assert loader.timezone is connection.timezone  # what Django's cursor() compares
    assert pq.__impl__ == "binary"  # psycopg[binary], as requirements.txt installs it: the loader is compiled
    parser = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)
    assert parser.__module__.startswith("psycopg_binary")


def test_timestamps_are_what_djangos_loader_reads():
    read = timestamps_read(django_loader=False)
    assert read == timestamps_read(django_loader=True)
    assert all(value.tzinfo is datetime.UTC for value in read)
    assert read[2] == datetime.datetime(2024, 2, 29, 18, 29, 59, 999999, tzinfo=datetime.UTC)


@override_settings(USE_TZ=False)
def test_naive_timestamps_without_time_zones_as_djangos_loader_reads_them():
    # The connection's loader is for UTC: Django's cursor() registers one for no time zone, and the backend the
    # compiled one in its place.
    assert issubclass(cursor_loader(), CompiledTzLoader)
    assert cursor_loader().timezone is None
    read = timestamps_read(django_loader=False)
    assert read == timestamps_read(django_loader=True)
    assert all(value.tzinfo is None for value in read)
