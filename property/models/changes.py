"""The feed of changes (GET /api/changes/, services/change_feed.py): a row for every change to a house or a photo,
written in the transaction of the change (signals.py), in an order a reader can follow without missing any.

The order is the writing transaction's id, then the row's id: on PostgreSQL `pg_current_xact_id()`, which a
transaction takes at its first write, so that a transaction that began early and commits late still sorts
before every transaction that took an id after it; the feed exposes only rows whose transaction is older than
every transaction still running (services/change_feed.py), so nothing can still appear before what a reader has
read. SQLite runs one writing transaction at a time (IMMEDIATE: the write lock from BEGIN to COMMIT), so its rows
are committed in the order of their ids: the transaction is 0 there, and the order the ids'.
"""

from __future__ import annotations

from django.db import NotSupportedError, connection, models
from django.db.models.expressions import RawSQL

from ..announcements import ChangeAction


class CurrentTransaction(models.Expression):
    """The id of the transaction that writes the row: PostgreSQL's 64-bit `pg_current_xact_id()` (never reused);
    0 on SQLite, whose writers never overlap."""

    output_field = models.BigIntegerField()
    allowed_default = True

    def as_sql(self, compiler, connection):
        return "0", []

    def as_postgresql(self, compiler, connection):
        return "(pg_current_xact_id()::text::bigint)", []


class OldestRunningTransaction(models.Expression):
    """Below this id every transaction has ended, so no change can still appear there: PostgreSQL's
    `pg_snapshot_xmin(pg_current_snapshot())`, the oldest transaction still running when the statement began
    (or the next id, with none running)."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler, connection):
        raise NotSupportedError("transaction ids are PostgreSQL's")

    def as_postgresql(self, compiler, connection):
        return "(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)", []


class ChangeQuerySet(models.QuerySet):
    def entries(self) -> models.QuerySet:
        """The changes as named tuples of their fields (ENTRY_FIELDS), not models: a page of the feed reads up to
        501 of them, and building a model of each costs more than reading it."""
        return self.values_list(*ENTRY_FIELDS, named=True)

    def settled(self) -> ChangeQuerySet:
        """The changes no running transaction can still precede: what a reader may read past. On SQLite, every
        committed one: its writers never overlap."""
        if connection.vendor != "postgresql":
            return self
        return self.filter(transaction__lt=OldestRunningTransaction())

    def after(self, transaction: int, change_id: int) -> ChangeQuerySet:
        """The changes after this position, in the feed's order, read as a range of the (transaction, id) index
        that starts at the position, as cheap a million changes in as at the first.

        PostgreSQL: the row-value comparison `(transaction, id) > (t, i)`. SQLite, whose transaction is always 0:
        `transaction = 0 AND id > i` (SQLite reads a row-value comparison as a range of its first column only,
        every change of the feed)."""
        if connection.vendor != "postgresql":
            return self.filter(transaction=transaction, id__gt=change_id).order_by("transaction", "id")
        quote = connection.ops.quote_name
        table = quote(self.model._meta.db_table)
        columns = f"({table}.{quote('transaction')}, {table}.{quote('id')})"
        # Names from the model, the position as parameters.
        later = RawSQL(f"{columns} > (%s, %s)", [transaction, change_id], output_field=models.BooleanField())  # noqa: S611
        return self.filter(later).order_by("transaction", "id")


class ChangedKind(models.TextChoices):
    """What changed: a house of either kind, or a photo."""

    HOUSE_FOR_SALE = "house_for_sale", "house for sale"
    HOUSE_FOR_RENT = "house_for_rent", "house for rent"
    IMAGE = "image", "image"


class Change(models.Model):
    """One change to a house or a photo, kept CHANGES_RETENTION_DAYS (`manage.py housekeeping` prunes it)."""

    id = models.BigAutoField(primary_key=True)
    transaction = models.BigIntegerField(db_default=CurrentTransaction(), editable=False)
    kind = models.CharField(max_length=14, choices=ChangedKind.choices)
    object_id = models.PositiveBigIntegerField()
    # The house the change is of (a photo's house; a house's own id).
    house_kind = models.CharField(max_length=14, choices=ChangedKind.choices[:2])
    house_id = models.PositiveBigIntegerField()
    action = models.CharField(max_length=14, choices=ChangeAction.choices)
    changed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = ChangeQuerySet.as_manager()

    class Meta:
        ordering = ["transaction", "id"]
        # The feed reads a page from here, as cheap at the millionth change as at the first.
        indexes = [models.Index(fields=["transaction", "id"], name="property_change_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.object_id} {self.action}"


# What a reader is told of a change (services/change_feed.py, change_serializers.py).
ENTRY_FIELDS = ("id", "transaction", "kind", "object_id", "house_kind", "house_id", "action", "changed_at")


class ChangesPruned(models.Model):
    """Where the pruned part of the feed ends (one row): a cursor before it may have missed a pruned change."""

    transaction = models.BigIntegerField(default=0)
    change_id = models.BigIntegerField(default=0)
    pruned_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name_plural = "changes pruned"

    def __str__(self) -> str:
        return f"changes pruned up to {self.transaction}/{self.change_id}"
