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

from collections import defaultdict
from dataclasses import dataclass

from django.core import signing
from django.db import models

from backend.exceptions import ApplicationError

from ..models import HOUSE_MODELS, Change, ChangedKind, ChangesPruned, PropertyImage

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
        """The position after `change`: a Change, or a change as Change.objects.entries() reads it."""
        return cls(change.transaction, change.id)


@dataclass(frozen=True)
class ChangesPage:
    changes: list  # as Change.objects.entries() reads them
    position: Position  # after the last change of the page (where the page began, if it is empty)
    more: bool  # whether more settled changes follow now


def changes_head() -> Position:
    """The position after the newest settled change: where a reader starts who takes a snapshot now."""
    newest = Change.objects.settled().order_by("-transaction", "-id").values_list("transaction", "id").first()
    return Position(*newest) if newest else Position()


def changes_after(position: Position, *, size: int) -> ChangesPage:
    """Up to `size` settled changes after `position`, in the feed's order.

    CursorExpired if changes after `position` may have been pruned (it is before the pruned part's end). The page
    is read from the position's own change on: while that change is kept, no change after it was pruned
    (changes_prune forgets a whole beginning of the feed, and moves the pruned part's end in the same
    transaction), so the common page costs one query, which sees the feed at one moment. Only a position whose
    change is gone (pruned, or the start of an empty feed) is compared with the pruned part's end."""
    # (transaction, id) >= the position: ids are integers, so that is "after (transaction, id - 1)".
    read = Change.objects.settled().after(position.transaction, position.change_id - 1).entries()[: size + 2]
    changes = list(read)
    if changes and Position.of_change(changes[0]) == position:
        changes = changes[1:]
    else:
        pruned = ChangesPruned.objects.filter(pk=1).values_list("transaction", "change_id").first()
        if pruned is not None and position < Position(*pruned):
            raise CursorExpired
        changes = changes[: size + 1]
    page = changes[:size]
    return ChangesPage(page, Position.of_change(page[-1]) if page else position, more=len(changes) > size)


def changed_objects(changes: list) -> dict[tuple[str, int], models.Model]:
    """The houses and photos the changes are of, as they are now, by (kind, id): one query per kind. One that is
    gone is missing."""
    ids_by_kind: dict[str, set[int]] = defaultdict(set)
    for change in changes:
        ids_by_kind[change.kind].add(change.object_id)
    found: dict[tuple[str, int], models.Model] = {}
    for kind, ids in ids_by_kind.items():
        rows: models.QuerySet
        if kind == ChangedKind.IMAGE:
            rows = PropertyImage.objects.filter(pk__in=ids)
        else:
            rows = HOUSE_MODELS[kind].objects.select_related("owner").filter(pk__in=ids)
        rows = rows.order_by()  # into a dict: the models' ordering would only cost a sort
        found.update(((kind, row.pk), row) for row in rows)
    return found
