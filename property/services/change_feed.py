"""Reading the feed of changes (GET /api/changes/): a page of changes after a cursor, each with its object as it is
now, and where to go on from.

A cursor is a position in the feed's order (models/changes.py: the writing transaction, then the change's id),
signed so that a made-up one is a 400, never another place. A page holds only settled changes (none a running
transaction can still precede), so a reader that goes on from its last cursor never skips one committed late.
Each entry carries its object as it is when the page is read, not as it was after that change: applying an entry
makes the copy current, applying it again changes nothing, and an entry whose object is gone says so (`data`
null) before its own deletion's entry comes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, models

from backend.exceptions import ApplicationError

from ..models import ENTRY_FIELDS, HOUSE_MODELS, Change, ChangedKind, ChangeEntry, ChangesPruned, PropertyImage
from ..sql import ModelColumns, quoted_column

CURSOR_SALT = "property.changes.cursor"


class CursorExpired(ApplicationError):
    status_code = 410
    message = (
        "This cursor is older than the changes the feed keeps (CHANGES_RETENTION_DAYS): some changes after it were "
        "forgotten. Take a snapshot again (walk the lists with ?paging=cursor) and follow the feed from a new cursor "
        "(GET /api/changes/ without one)."
    )


@dataclass(frozen=True, order=True)
class Position:
    """A place in the feed: after the change `change_id` of transaction `transaction` ((0, 0): before the first)."""

    transaction: int = 0
    change_id: int = 0

    @property
    def cursor(self) -> str:
        return signing.Signer(salt=CURSOR_SALT).sign_object([self.transaction, self.change_id])

    @classmethod
    def of_cursor(cls, cursor: str) -> Position:
        """ValueError for anything but a cursor the feed handed out."""
        try:
            values = signing.Signer(salt=CURSOR_SALT).unsign_object(cursor)
        except (signing.BadSignature, ValueError, TypeError, UnicodeError) as error:
            raise ValueError("not a cursor of the feed") from error
        if not (isinstance(values, list) and len(values) == 2 and all(type(value) is int for value in values)):
            raise ValueError("not a cursor of the feed")
        return cls(*values)

    @classmethod
    def of_change(cls, change) -> Position:
        """The position after `change`: a Change, or a ChangeEntry."""
        return cls(change.transaction, change.id)


@dataclass(frozen=True)
class ChangesPage:
    changes: list  # ChangeEntry tuples
    position: Position  # after the last change of the page (where the page began, if it is empty)
    more: bool  # whether more settled changes follow now
    # The houses and photos the changes are of, as they are now, by (kind, id); one that is gone is missing.
    objects: dict[tuple[str, int], models.Model] = field(default_factory=dict)


def changes_head() -> Position:
    """The position after the newest settled change: where a reader starts who takes a snapshot now."""
    newest = Change.objects.settled().order_by("-transaction", "-id").values_list("transaction", "id").first()
    return Position(*newest) if newest else Position()


def changes_after(position: Position, *, size: int) -> ChangesPage:
    """Up to `size` settled changes after `position`, in the feed's order, with their objects as they are now.

    CursorExpired if changes after `position` may have been pruned (it is before the pruned part's end). The page
    is read from the position's own change on: while that change is kept, no change after it was pruned
    (changes_prune forgets a whole beginning of the feed, and moves the pruned part's end in the same
    transaction), so the common page costs one query, which sees the feed and its objects at one moment. Only a
    position whose change is gone (pruned, or the start of an empty feed) is compared with the pruned part's end."""
    # (transaction, id) >= the position: ids are integers, so that is "after (transaction, id - 1)".
    changes, objects = changes_with_objects(
        Change.objects.settled().after(position.transaction, position.change_id - 1), size + 2
    )
    if changes and Position.of_change(changes[0]) == position:
        changes = changes[1:]
    else:
        pruned = ChangesPruned.objects.filter(pk=1).values_list("transaction", "change_id").first()
        if pruned is not None and position < Position(*pruned):
            raise CursorExpired
        changes = changes[: size + 1]
    page = changes[:size]
    return ChangesPage(page, Position.of_change(page[-1]) if page else position, len(changes) > size, objects)


def changes_with_objects(changes: models.QuerySet, limit: int) -> tuple[list, dict[tuple[str, int], models.Model]]:
    """The first `limit` of `changes` (ChangeEntry tuples), each joined to its photo or its house (with its owner's
    id and name) as they are now: one query, not one for the changes and then one per kind of object."""
    sql, params = changes.values_list(*ENTRY_FIELDS)[:limit].query.sql_with_params()
    joined = joined_page(connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(f"{joined.select}({sql}){joined.joins}", [*params, *map(str, joined.kinds)])
        rows = cursor.fetchall()
    entries, objects = [], {}
    for row in rows:
        entry = ChangeEntry(*joined.entry.values(row[: len(joined.entry)]))
        entries.append(entry)
        found = joined.kinds[entry.kind].instance(row)
        if found is not None:
            objects[entry.kind, entry.object_id] = found
    return entries, objects


@dataclass(frozen=True)
class JoinedKind:
    """A kind of object a page's changes are joined to: its columns in the row from `start` on, and for a house,
    its owner's after them."""

    columns: ModelColumns
    start: int
    owner: ModelColumns | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.columns) + (len(self.owner) if self.owner else 0)

    def instance(self, row: tuple) -> models.Model | None:
        """The object of the row, if the join found it (a house with its owner, as select_related gives it)."""
        found = self.columns.instance(row[self.start : self.start + len(self.columns)])
        if found is not None and self.owner is not None:
            owner = self.owner.instance(row[self.start + len(self.columns) : self.end])
            found._meta.get_field("owner").set_cached_value(found, owner)  # type: ignore[union-attr]
        return found


@dataclass(frozen=True)
class JoinedPage:
    """The SELECT around a page's changes (`{select}(page's SQL){joins}`, the kinds as its parameters), and where
    each part of a row is."""

    select: str
    joins: str
    entry: ModelColumns
    kinds: dict[str, JoinedKind]


@cache
def joined_page(vendor: str) -> JoinedPage:
    """The joined read of a page, built once per database kind: the feed's entries, then each kind's columns."""
    quote = connection.ops.quote_name
    page = quote("page")
    entry = ModelColumns(Change, "page", list(ENTRY_FIELDS))
    kinds: dict[str, JoinedKind] = {}
    joins, start = [], len(entry)
    kind_of_change, object_of_change = (
        f"{page}.{quoted_column(Change, 'kind')}",
        f"{page}.{quoted_column(Change, 'object_id')}",
    )
    kind_models: list[tuple[str, type[models.Model]]] = [(ChangedKind.IMAGE, PropertyImage), *HOUSE_MODELS.items()]
    for kind, model in kind_models:
        alias, owner = quote(f"{kind}_row"), None
        joins.append(
            f"LEFT JOIN {quote(model._meta.db_table)} {alias} "
            f"ON {kind_of_change} = %s AND {alias}.{quoted_column(model)} = {object_of_change}"
        )
        if model is not PropertyImage:
            user = get_user_model()
            owner_alias = quote(f"{kind}_owner")
            owner = ModelColumns(user, f"{kind}_owner", ["id", user.USERNAME_FIELD])
            joins.append(
                f"LEFT JOIN {quote(user._meta.db_table)} {owner_alias} "
                f"ON {owner_alias}.{quoted_column(user)} = {alias}.{quoted_column(model, 'owner')}"
            )
        kinds[kind] = JoinedKind(ModelColumns(model, f"{kind}_row"), start, owner)
        start = kinds[kind].end
    parts = [part for kind in kinds.values() for part in (kind.columns, kind.owner) if part is not None]
    columns = ", ".join([entry.select, *(part.select for part in parts)])
    order = f"{page}.{quoted_column(Change, 'transaction')}, {page}.{quoted_column(Change, 'id')}"
    # Names from the models; the kinds and the page's values as parameters.
    select, rest = f"SELECT {columns} FROM ", f" {page} {' '.join(joins)} ORDER BY {order}"  # noqa: S608
    return JoinedPage(select, rest, entry, kinds)
