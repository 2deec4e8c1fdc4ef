"""The feed's side of every change to a house or a photo: an entry written in the change's transaction
(signals.py calls these), and the entries older than CHANGES_RETENTION_DAYS forgotten (`manage.py housekeeping`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from ..announcements import ChangeAction
from ..models import PROPERTY_KIND_BY_MODEL_NAME, Change, ChangedKind, ChangesPruned, PropertyImage, property_kind_of
from ..sql import quoted_column


def change_of(instance: models.Model, action: ChangeAction) -> Change:
    """The entry of a change to a house or a photo."""
    if isinstance(instance, PropertyImage):
        return Change(
            kind=ChangedKind.IMAGE,
            object_id=instance.pk,
            house_kind=instance.property_kind,
            house_id=instance.object_id,
            action=action,
        )
    kind = property_kind_of(instance)
    return Change(kind=kind, object_id=instance.pk, house_kind=kind, house_id=instance.pk, action=action)


def changes_record(instances: Iterable[models.Model], action: ChangeAction) -> None:
    entries = [change_of(instance, action) for instance in instances]
    if entries:
        Change.objects.bulk_create(entries)


# Ids per INSERT ... SELECT: well under SQLite's 32766 parameters and PostgreSQL's 65535.
RECORD_BATCH = 1000


def changes_record_updated(model: type[models.Model], pks: list[int], action: ChangeAction) -> None:
    """Entries for rows an update() (or raw SQL) wrote, known by their ids: one `INSERT ... SELECT` from the rows per
    RECORD_BATCH ids (a photo's house read from its row there), so that a reorder of 200 photos records them in
    as many statements as one of 3."""
    quote = connection.ops.quote_name
    rows, pk = quote(model._meta.db_table), quoted_column(model)
    if model is PropertyImage:
        # The house's kind from its content type's model name, joined here: no lookup in Python.
        types = quote(ContentType._meta.db_table)
        kinds = " ".join(f"WHEN '{name}' THEN '{kind}'" for name, kind in PROPERTY_KIND_BY_MODEL_NAME.items())
        kind, house_kind = f"'{ChangedKind.IMAGE}'", f"CASE {types}.{quote('model')} {kinds} END"
        house_id = f"{rows}.{quote('object_id')}"
        source = f"{rows} JOIN {types} ON {types}.{quote('id')} = {rows}.{quote('content_type_id')}"
    else:
        kind = house_kind = f"'{property_kind_of(model)}'"
        house_id, source = f"{rows}.{pk}", rows
    columns = ", ".join(quoted_column(Change, name) for name in RECORDED_FIELDS)
    with connection.cursor() as cursor:
        for start in range(0, len(pks), RECORD_BATCH):
            batch = pks[start : start + RECORD_BATCH]
            cursor.execute(
                f"INSERT INTO {quote(Change._meta.db_table)} ({columns}) "  # noqa: S608 - names from the models
                f"SELECT {kind}, {rows}.{pk}, {house_kind}, {house_id}, %s, %s FROM {source} "
                f"WHERE {rows}.{pk} IN ({', '.join(['%s'] * len(batch))}) ORDER BY {rows}.{pk}",
                [str(action), connection.ops.adapt_datetimefield_value(timezone.now()), *batch],
            )


# The columns an entry is written with (its id and transaction are the database's).
RECORDED_FIELDS = ("kind", "object_id", "house_kind", "house_id", "action", "changed_at")


# What a save() of only these fields (and the time of the change) is, to the feed's readers.
ACTION_OF_SAVED_FIELDS = {
    frozenset({"is_main"}): ChangeAction.MAIN_CHANGED,
    frozenset({"order"}): ChangeAction.REORDERED,
}


def action_of_save(*, created: bool, update_fields: Iterable[str] | None) -> ChangeAction:
    if created:
        return ChangeAction.CREATED
    fields = frozenset(update_fields or ()) - {"updated_at"}
    return ACTION_OF_SAVED_FIELDS.get(fields, ChangeAction.UPDATED)


def changes_prune() -> int:
    """Forget the changes made over CHANGES_RETENTION_DAYS ago, and remember where the forgotten part of the feed
    ends (ChangesPruned), so that a cursor before it is answered 410. The number of changes forgotten.

    What is forgotten is a beginning of the feed, in its order (every change up to the newest of the old ones), and
    only of the settled part: a change a running transaction may still precede stays."""
    cutoff = timezone.now() - timedelta(days=settings.CHANGES_RETENTION_DAYS)
    old = Change.objects.settled().filter(changed_at__lt=cutoff).order_by("-transaction", "-id")
    newest_old = old.values_list("transaction", "id").first()
    if newest_old is None:
        return 0
    pruned_transaction, pruned_id = newest_old
    with transaction.atomic():
        horizon, _ = ChangesPruned.objects.select_for_update().get_or_create(pk=1)
        if (pruned_transaction, pruned_id) > (horizon.transaction, horizon.change_id):
            horizon.transaction, horizon.change_id = pruned_transaction, pruned_id
        horizon.pruned_at = timezone.now()
        horizon.save()
        up_to = models.Q(transaction__lt=pruned_transaction) | models.Q(
            transaction=pruned_transaction, id__lte=pruned_id
        )
        forgotten, _ = Change.objects.filter(up_to).delete()
    return forgotten
