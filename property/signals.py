"""Removes an image's objects from S3 once the deletion of its row has committed, and announces that houses, images or
users changed (versions.py): the lists' counts and the cached answers then take them in."""

from django.contrib.auth import get_user_model
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import HouseForRent, HouseForSale, PropertyImage
from .services.image_updates import property_image_delete_objects_on_commit
from .versions import changed


@receiver(post_delete, sender=PropertyImage, dispatch_uid="property_image_delete_object")
def delete_object_of_deleted_image(sender, instance: PropertyImage, **kwargs) -> None:
    property_image_delete_objects_on_commit(image=instance)


def rows_changed(sender, **kwargs) -> None:
    changed(sender)


# Users: a house's answer carries its owner's username.
for model in (HouseForSale, HouseForRent, PropertyImage, get_user_model()):
    post_save.connect(rows_changed, sender=model, dispatch_uid=f"changed_on_save_{model.__name__}")
    post_delete.connect(rows_changed, sender=model, dispatch_uid=f"changed_on_delete_{model.__name__}")
