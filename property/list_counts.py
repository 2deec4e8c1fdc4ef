"""The `count` of a list, counted once per change of what it counts instead of on every page.

Counting a list is O(rows it holds) on every database, even from an index: 200,000 houses or 2,000,000 photos cost
tens of milliseconds to count, every page of every client. So a count is kept in the cache (CACHES["default"]:
Redis in production, files under .localdata for `make run`) under its query and the *version* of the model it
counts, and every committed write of that model gives it a new version: the next page counts again, once.

The version changes after the commit (transaction.on_commit), never before: a count taken while a write is still
uncommitted is stored under the old version, which nobody asks for once the write has committed. So a client that
writes and then lists sees its write counted. Saves and deletes of houses and images change it (signals.py); code
that changes a filtered column with QuerySet.update() or raw SQL calls list_changed() itself. What no such write
announces (SQL typed into the database) is counted again after LIST_COUNT_CACHE_SECONDS at the latest.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction


def version_key(model: type[models.Model]) -> str:
    return f"list-version:{model._meta.label_lower}"


def version_bump(model: type[models.Model]) -> None:
    """A new version, random so that two processes bumping at once can never agree on an old one."""
    cache.set(version_key(model), secrets.token_hex(8), timeout=None)


def list_changed(model: type[models.Model]) -> None:
    """Counts of `model`'s lists are to be taken again once the current transaction commits (at once outside one).
    Once per model and transaction, however many rows it writes (a house's deletion deletes all its images)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        version_bump(model)
        return
    # The models already announced to this transaction's commit hooks. Django gives a new list of hooks to each
    # transaction (and on a savepoint's rollback, which at worst announces a model twice).
    announced = getattr(connection, "list_changes_announced", None)
    if announced is None or announced[0] is not connection.run_on_commit:
        announced = connection.list_changes_announced = (connection.run_on_commit, set())
    if model not in announced[1]:
        announced[1].add(model)
        transaction.on_commit(partial(version_bump, model))


def list_count(queryset: models.QuerySet) -> int:
    """queryset.count(), counted by the database once per version of its model (at most every
    LIST_COUNT_CACHE_SECONDS when nothing changes): the queryset must filter on its model's own columns."""
    if not settings.LIST_COUNT_CACHE_SECONDS:
        return queryset.count()
    version = cache.get(version_key(queryset.model))
    if version is None:
        version = secrets.token_hex(8)
        if not cache.add(version_key(queryset.model), version, timeout=None):
            version = cache.get(version_key(queryset.model), version)
    sql, params = queryset.order_by().query.sql_with_params()
    query = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
    key = f"list-count:{queryset.model._meta.label_lower}:{version}:{query}"
    count = cache.get(key)
    if count is None:
        count = queryset.count()
        cache.set(key, count, timeout=settings.LIST_COUNT_CACHE_SECONDS)
    return count
