"""A version of each model's rows, new after every committed write: what the lists' counts (list_counts.py) and
the API's cached answers (answers.py) are kept under, so that nothing written through the app is answered stale.

A version lives in the cache (CACHES["versions"]: Redis in production, files under .localdata for `make run`), shared
by every process; what is kept under it lives in CACHES["lists"], whose culling never drops a version. It changes
after the commit (transaction.on_commit), never before: what a reader computes while a write is still uncommitted is
stored under the old version, which nobody asks for once the write has committed. So a client that writes and then
reads sees its write. Every write of a house or a photo announces itself (announcements.py; signals.py calls
changed()). What no write announces (SQL typed into the database) is seen once what was kept expires.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache, partial

from django.core.cache import caches
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction


def version_key(model: type[models.Model]) -> str:
    """Of this database's rows: two deployments sharing one cache (`make run` and a benchmark's server, staging and
    production on one Redis) keep versions, counts and answers apart."""
    return f"version:{database_identity()}:{model._meta.label_lower}"


@cache
def database_identity() -> str:
    database = connections[DEFAULT_DB_ALIAS].settings_dict
    where = f"{database['ENGINE']} {database['HOST']} {database['PORT']} {database['NAME']}"
    return hashlib.sha256(where.encode()).hexdigest()[:16]


def version_bump(model: type[models.Model]) -> None:
    """A new version, random so that two processes bumping at once can never agree on an old one."""
    caches["versions"].set(version_key(model), secrets.token_hex(8), timeout=None)  # kept until the next


def changed(model: type[models.Model]) -> None:
    """`model`'s rows get a new version once the current transaction commits (at once outside one). Once per model
    and transaction, however many rows it writes (a house's deletion deletes all its images)."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        version_bump(model)
        return
    # The models already announced to this transaction's commit hooks. Django gives a new list of hooks to each
    # transaction (and on a savepoint's rollback, which at worst announces a model twice).
    announced: tuple[list, set[type[models.Model]]] | None = getattr(connection, "changes_announced", None)
    if announced is None or announced[0] is not connection.run_on_commit:
        announced = connection.changes_announced = (connection.run_on_commit, set())
    if model not in announced[1]:
        announced[1].add(model)
        transaction.on_commit(partial(version_bump, model))


def versions_of(*models_: type[models.Model]) -> str:
    """The current versions of these models, one string (a model never written yet gets its first one now)."""
    keys = [version_key(model) for model in models_]
    found = caches["versions"].get_many(keys)
    for key in keys:
        if key not in found:
            token = secrets.token_hex(8)
            versions = caches["versions"]
            found[key] = token if versions.add(key, token, timeout=None) else versions.get(key, token)
    return ",".join(str(found[key]) for key in keys)
