"""What follows a change to a house or a photo, however it was written (announcements.py): an entry in the feed of
changes (services/changes.py), a new version of the model's rows for the lists' counts and the cached answers
(versions.py), and, for a deleted photo, the deletion of its objects from S3 once the deletion has committed.
A user's change gives a new version of the users only: a house's answer carries its owner's username."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .announcements import ChangeAction, rows_created, rows_updated
from .models import HouseForRent, HouseForSale, PropertyImage
from .services.changes import action_of_save, changes_record, changes_record_updated
from .services.image_updates import property_image_delete_objects_on_commit
from .versions import changed

# The models whose changes the feed tells (GET /api/changes/).
IN_THE_FEED = (HouseForSale, HouseForRent, PropertyImage)


@receiver(post_delete, sender=PropertyImage, dispatch_uid="property_image_delete_object")
def delete_object_of_deleted_image(sender, instance: PropertyImage, **kwargs) -> None:
    property_image_delete_objects_on_commit(image=instance)


def saved(sender, instance, created: bool, update_fields=None, raw: bool = False, **kwargs) -> None:
    changed(sender)
    if not raw:  # loaddata: rows as they were, not a change made here
        changes_record([instance], action_of_save(created=created, update_fields=update_fields))


def deleted(sender, instance, **kwargs) -> None:
    changed(sender)
    changes_record([instance], ChangeAction.DELETED)


def updated(sender, pks: list[int], action: ChangeAction, **kwargs) -> None:
    changed(sender)
    changes_record_updated(sender, pks, action)


def created(sender, instances: list, **kwargs) -> None:
    changed(sender)
    changes_record(instances, ChangeAction.CREATED)


def rows_changed(sender, **kwargs) -> None:
    changed(sender)


for model in IN_THE_FEED:
    post_save.connect(saved, sender=model, dispatch_uid=f"changed_on_save_{model.__name__}")
    post_delete.connect(deleted, sender=model, dispatch_uid=f"changed_on_delete_{model.__name__}")
    rows_updated.connect(updated, sender=model, dispatch_uid=f"changed_on_update_{model.__name__}")
    rows_created.connect(created, sender=model, dispatch_uid=f"changed_on_create_{model.__name__}")
post_save.connect(rows_changed, sender=get_user_model(), dispatch_uid="changed_on_save_user")
post_delete.connect(rows_changed, sender=get_user_model(), dispatch_uid="changed_on_delete_user")
