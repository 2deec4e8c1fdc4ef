"""Django's PostgreSQL backend, reading `timestamptz` values with psycopg's compiled loader.

Django reads every `timestamptz` through its own loader (`psycopg_any.BaseTzLoader`), a subclass of psycopg's
pure-Python one: psycopg swaps in its C loader only for its own classes, and the C class cannot be subclassed
(Django ticket #36960, psycopg #1273). Each value then costs several microseconds of Python, about a millisecond
for a page of the feed of changes or a list of photos on this machine. The loader here is Django's, the same
class with the same `timezone` (Django's cursor() compares it), whose parsing is done by the loader psycopg
registers for `timestamptz` in its global adapters (the C one with psycopg[binary], else the same Python one).
The value is then what Django's gives: the time the server sent, with Django's time zone put in place of the
connection's (test_postgresql proves them equal)."""

from __future__ import annotations

import functools

import psycopg
from django.db.backends.postgresql import base
from django.db.backends.postgresql.psycopg_any import BaseTzLoader
from psycopg import adapt, pq
from psycopg.postgres import types

TIMESTAMPTZ_OID = types["timestamptz"].oid


class CompiledTzLoader(BaseTzLoader):
    """Django's loader for one time zone (`timezone`), parsing with psycopg's registered (compiled) loader."""

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        compiled = psycopg.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT)
        assert compiled is not None, "psycopg registers a loader for timestamptz"
        self.parse = compiled(oid, context).load

    def load(self, data):
        return self.parse(data).replace(tzinfo=self.timezone)


@functools.cache
def compiled_tzloader(timezone) -> type[CompiledTzLoader]:
    return type("TzLoader", (CompiledTzLoader,), {"timezone": timezone})


def compiled_tzloader_register(timezone, context) -> None:
    context.adapters.register_loader("timestamptz", compiled_tzloader(timezone))


@functools.cache
def adapters_template(django_template: adapt.AdaptersMap, timezone) -> adapt.AdaptersMap:
    """Django's template of a connection's adapters (one per time zone, kept), with the compiled loader: made once,
    as Django's is, since connecting (and, with the pool, every request) asks for it."""
    adapters = adapt.AdaptersMap(django_template)
    compiled_tzloader_register(timezone, adapters)
    return adapters


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self) -> dict:
        params = super().get_connection_params()
        params["context"] = adapters_template(params["context"], self.timezone)
        return params

    def create_cursor(self, name=None):
        cursor = super().create_cursor(name)
        # Django registers its own loader on a cursor whose time zone differs from the connection's (a test's
        # override_settings): the compiled one in its place.
        if not issubclass(cursor.adapters.get_loader(TIMESTAMPTZ_OID, pq.Format.TEXT), CompiledTzLoader):
            compiled_tzloader_register(self.timezone, cursor)
        return cursor
