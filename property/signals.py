"""Removes an image's objects from S3 once the deletion of its row has committed."""

from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import PropertyImage
from .services.image_updates import property_image_delete_objects_on_commit


@receiver(post_delete, sender=PropertyImage, dispatch_uid="property_image_delete_object")
def delete_object_of_deleted_image(sender, instance: PropertyImage, **kwargs) -> None:
    property_image_delete_objects_on_commit(image=instance)
