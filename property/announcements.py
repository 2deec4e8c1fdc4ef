"""How the rows of houses and photos say that they changed, whichever way they were written: save() and delete()
send Django's signals; QuerySet.update() and bulk_create() send `rows_updated` and `rows_created` (Django sends
nothing for them); raw SQL sends `rows_updated` itself. signals.py connects the listeners: the cache versions
(versions.py) and the feed of changes (services/changes.py), both written in the transaction of the change.

Each signal says what kind of change it was (ChangeAction), as the feed names it to its readers.
"""

from __future__ import annotations

from django.db import models, router, transaction
from django.dispatch import Signal
from django.utils import timezone


class ChangeAction(models.TextChoices):
    """What happened to a house or a photo (GET /api/changes/)."""

    CREATED = "created", "created"
    UPDATED = "updated", "updated"
    DELETED = "deleted", "deleted"
    REORDERED = "reordered", "reordered: the photo's place among its house's photos"
    MAIN_CHANGED = "main_changed", "main changed: the photo became, or stopped being, its house's main photo"
    VARIANTS_READY = "variants_ready", "variants ready: the photo's smaller copies and placeholder were made"


# Sent with sender=model, pks=[...] (the rows the update wrote), action=ChangeAction.
rows_updated = Signal()
# Sent with sender=model, instances=[...] (saved, with their primary keys).
rows_created = Signal()


class ChangeAnnouncingQuerySet(models.QuerySet):
    """A QuerySet whose update() and bulk_create() announce the rows they wrote, as save() and delete() do.

    update() reads the ids of the rows it is about to write first, in the same transaction, and writes only those
    (still matching the filter): what it announces is at least what it wrote. It also sets each `auto_now` field,
    as save() does, so that `updated_at` says when a row last changed however it was written. `announcing(action)`
    names the change (`updated` unless told).
    """

    change_action = ChangeAction.UPDATED

    def announcing(self, action: ChangeAction) -> ChangeAnnouncingQuerySet:
        clone = self.all()
        clone.change_action = action
        return clone

    def _clone(self):  # QuerySet's copy for each chained call (private: not in django-stubs)
        clone = super()._clone()  # type: ignore[misc]
        clone.change_action = self.change_action
        return clone

    def update(self, **kwargs) -> int:
        now = timezone.now()
        for field in self.model._meta.concrete_fields:
            if getattr(field, "auto_now", False) and field.name not in kwargs:
                kwargs[field.name] = now
        with transaction.atomic(using=self.db, savepoint=False):
            pks = list(self.values_list("pk", flat=True))
            if not pks:
                return 0
            rows = super(ChangeAnnouncingQuerySet, self.filter(pk__in=pks)).update(**kwargs)
            rows_updated.send(sender=self.model, pks=pks, action=self.change_action)
        return rows

    def bulk_create(self, objs, *args, **kwargs):
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            if created:
                rows_created.send(sender=self.model, instances=created)
        return created


class ChangeAnnouncingModel(models.Model):
    """A model whose save() commits together with what its post_save listeners write (the feed's entry): both or
    neither, also outside a transaction (delete() is atomic with its post_delete signals already)."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        with transaction.atomic(using=using, savepoint=False):
            super().save(*args, **kwargs)
