"""The `count` of a list, counted once per change of what it counts instead of on every page.

Counting a list is O(rows it holds) on every database, even from an index: 200,000 houses or 2,000,000 photos cost
tens of milliseconds to count, every page of every client. So a count is kept in the cache under its query and the
version of the model it counts (versions.py), which every committed write of that model renews: the next page
counts again, once. What no write announces (SQL typed into the database) is counted again after
LIST_COUNT_CACHE_SECONDS at the latest.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import caches
from django.db import models

from .versions import versions_of


def list_count(queryset: models.QuerySet) -> int:
    """queryset.count(), counted by the database once per version of its model (at most every
    LIST_COUNT_CACHE_SECONDS when nothing changes): the queryset must filter on its model's own columns."""
    if not settings.LIST_COUNT_CACHE_SECONDS:
        return queryset.count()
    version = versions_of(queryset.model)
    sql, params = queryset.order_by().query.sql_with_params()
    query = hashlib.sha256(repr((sql, params)).encode()).hexdigest()
    key = f"list-count:{queryset.model._meta.label_lower}:{version}:{query}"
    count = caches["lists"].get(key)
    if count is None:
        count = queryset.count()
        caches["lists"].set(key, count, timeout=settings.LIST_COUNT_CACHE_SECONDS)
    return count
