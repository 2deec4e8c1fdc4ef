"""Removes an image's objects from S3 once the deletion of its row has committed, and tells the lists' counts
(list_counts.py) that houses or images changed."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .list_counts import list_changed
from .models import HouseForRent, HouseForSale, PropertyImage
from .services.image_updates import property_image_delete_objects_on_commit


@receiver(post_delete, sender=PropertyImage, dispatch_uid="property_image_delete_object")
def delete_object_of_deleted_image(sender, instance: PropertyImage, **kwargs) -> None:
    property_image_delete_objects_on_commit(image=instance)


def counted_rows_changed(sender, **kwargs) -> None:
    list_changed(sender)


for model in (HouseForSale, HouseForRent, PropertyImage):
    post_save.connect(counted_rows_changed, sender=model, dispatch_uid=f"list_changed_on_save_{model.__name__}")
    post_delete.connect(counted_rows_changed, sender=model, dispatch_uid=f"list_changed_on_delete_{model.__name__}")
